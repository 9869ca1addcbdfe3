package monitor

import (
	"errors"
	"fmt"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// Names of the application gauges the guide's overview shows. The code that
// owns each figure registers it with RegisterGauge; until it does, the
// overview shows the gauge as unavailable.
const (
	GaugeMemoryEntries     = "memory_entries_count"
	GaugeRelationships     = "relationship_count"
	GaugeActiveConnections = "active_connections"
)

// ErrTooMany is returned when a registry of names is full (Options.MaxTools).
var ErrTooMany = errors.New("too many names registered")

type gaugeFunc struct {
	fn func() (float64, error)
}

// RegisterGauge registers an application gauge: fn is called once per
// sample and by every live reading (Live: a /metrics scrape,
// performance_report), one call at a time but from different goroutines,
// so it must return quickly. When it
// returns an error the gauge is reported unavailable with that error, never
// as 0. Registering a name again replaces its function.
func (m *Monitor) RegisterGauge(name string, fn func() (float64, error)) error {
	if name == "" || fn == nil {
		return fmt.Errorf("monitor: RegisterGauge needs a name and a function")
	}
	g := m.gauges.getOrAdd(name, func() *gaugeFunc { return &gaugeFunc{} })
	if g == nil {
		return fmt.Errorf("registering gauge %q: %w", name, ErrTooMany)
	}
	m.gauges.mu.Lock()
	g.fn = fn
	m.gauges.mu.Unlock()
	return nil
}

// readGauges calls every registered gauge function. A panicking gauge is
// reported unavailable rather than taking the sampler down.
func (m *Monitor) readGauges() map[string]metric.Reading {
	out := make(map[string]metric.Reading, m.gauges.len())
	m.gauges.each(func(name string, g *gaugeFunc) {
		m.gauges.mu.Lock()
		fn := g.fn
		m.gauges.mu.Unlock()
		out[name] = callGauge(fn)
	})
	return out
}

func callGauge(fn func() (float64, error)) (r metric.Reading) {
	defer func() {
		if p := recover(); p != nil {
			r = metric.Unavailable("gauge panicked: %v", p)
		}
	}()
	v, err := fn()
	if err != nil {
		return metric.Unavailable("%v", err)
	}
	return metric.Measured(v)
}
