package monitor

import (
	"math"
	"strings"
	"sync/atomic"
	"time"
)

// Custom metrics are the user's own figures, recorded by name and shown in
// the report under custom_metrics (the guide's "Custom Metrics"). Get a
// handle once and keep it: the handle's methods are lock-free and
// allocation-free. All are safe for concurrent use.

// A Counter is a cumulative total that only goes up.
type Counter struct{ bits atomic.Uint64 }

// Add adds delta, which must be ≥ 0; negative or non-finite deltas are
// ignored, because a counter that goes down breaks every rate computed from it.
func (c *Counter) Add(delta float64) {
	if !(delta >= 0) || math.IsInf(delta, 0) {
		return
	}
	for {
		old := c.bits.Load()
		if c.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+delta)) {
			return
		}
	}
}

// Inc adds one.
func (c *Counter) Inc() { c.Add(1) }

// Value returns the total.
func (c *Counter) Value() float64 { return math.Float64frombits(c.bits.Load()) }

// A Gauge is a value that goes up and down, set by the user.
type Gauge struct {
	bits atomic.Uint64
	set  atomic.Bool
}

// Set sets the gauge to v.
func (g *Gauge) Set(v float64) {
	g.bits.Store(math.Float64bits(v))
	g.set.Store(true)
}

// Value returns the gauge and whether it has been set.
func (g *Gauge) Value() (float64, bool) {
	return math.Float64frombits(g.bits.Load()), g.set.Load()
}

// A Timer records durations of a user-defined operation, with percentiles,
// like a tool.
type Timer struct{ l *latencyStats }

// Observe records one operation that took d; ok false counts it as failed.
func (t *Timer) Observe(d time.Duration, ok bool) { t.l.record(d, ok) }

// Counter returns the custom counter called name, creating it on first use.
// When Options.MaxTools names are already taken it returns a counter that
// is not reported, and the report counts the dropped name. A name already
// in use is found without allocating; only a new name is copied, so the
// registry never keeps a caller's buffer.
func (m *Monitor) Counter(name string) *Counter {
	if c := m.counters.get(name); c != nil {
		return c
	}
	c := m.counters.getOrAdd(strings.Clone(name), func() *Counter { return &Counter{} })
	if c == nil {
		m.droppedCustomNames.Add(1)
		return &Counter{}
	}
	return c
}

// Gauge returns the custom gauge called name, creating it on first use,
// like Counter.
func (m *Monitor) Gauge(name string) *Gauge {
	if g := m.values.get(name); g != nil {
		return g
	}
	g := m.values.getOrAdd(strings.Clone(name), func() *Gauge { return &Gauge{} })
	if g == nil {
		m.droppedCustomNames.Add(1)
		return &Gauge{}
	}
	return g
}

// Timer returns the custom timer called name, creating it on first use,
// like Counter.
func (m *Monitor) Timer(name string) *Timer {
	if t := m.timers.get(name); t != nil {
		return t
	}
	t := m.timers.getOrAdd(strings.Clone(name), func() *Timer { return &Timer{l: newLatencyStats()} })
	if t == nil {
		m.droppedCustomNames.Add(1)
		return &Timer{l: newLatencyStats()}
	}
	return t
}

// TrackCustomMetric sets the custom gauge name to value: the guide's
// track_custom_metric(name, value).
func (m *Monitor) TrackCustomMetric(name string, value float64) { m.Gauge(name).Set(value) }

// CustomSnapshot is the custom metrics at one sample.
type CustomSnapshot struct {
	Counters map[string]float64        `json:"counters"`
	Gauges   map[string]float64        `json:"gauges"`
	Timers   map[string]LatencySummary `json:"timers"`
}

func (m *Monitor) readCustom(now time.Time, scratch *histScratch) CustomSnapshot {
	c := CustomSnapshot{
		Counters: make(map[string]float64, m.counters.len()),
		Gauges:   make(map[string]float64, m.values.len()),
		Timers:   make(map[string]LatencySummary, m.timers.len()),
	}
	m.counters.each(func(name string, v *Counter) { c.Counters[name] = v.Value() })
	m.values.each(func(name string, v *Gauge) {
		if x, ok := v.Value(); ok {
			c.Gauges[name] = x
		}
	})
	m.timers.each(func(name string, t *Timer) {
		c.Timers[name] = t.l.summarize(now, m.opts.RecentWindow, m.started, scratch)
	})
	return c
}
