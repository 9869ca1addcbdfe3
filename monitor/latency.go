package monitor

import (
	"math"
	"sync/atomic"
	"time"
)

// latencyStats counts operations that take time and may fail: tool calls,
// store queries and custom timings. record is lock-free and allocation-free.
type latencyStats struct {
	count  atomic.Uint64
	errors atomic.Uint64
	sumNs  atomic.Uint64
	minNs  atomic.Int64 // math.MaxInt64 until the first observation
	maxNs  atomic.Int64
	total  histogram
	recent windowHist
}

func newLatencyStats() *latencyStats {
	l := &latencyStats{}
	l.minNs.Store(math.MaxInt64)
	return l
}

func (l *latencyStats) record(d time.Duration, ok bool) {
	ns := int64(d)
	if ns < 0 {
		ns = 0 // a clock step must not poison sums and buckets
	}
	l.count.Add(1)
	if !ok {
		l.errors.Add(1)
	}
	l.sumNs.Add(uint64(ns))
	for {
		cur := l.minNs.Load()
		if ns >= cur || l.minNs.CompareAndSwap(cur, ns) {
			break
		}
	}
	for {
		cur := l.maxNs.Load()
		if ns <= cur || l.maxNs.CompareAndSwap(cur, ns) {
			break
		}
	}
	l.total.observe(uint64(ns))
	l.recent.observe(uint64(ns))
}

// LatencySummary describes a set of timed operations at one sample.
// Counts and sums are cumulative since start; percentiles come in two
// flavours, since start and over the recent window.
type LatencySummary struct {
	Count      uint64        `json:"count"`
	Errors     uint64        `json:"errors"`
	Sum        time.Duration `json:"-"`
	Min        time.Duration `json:"-"`
	Max        time.Duration `json:"-"`
	SinceStart Percentiles   `json:"since_start"`
	Recent     Percentiles   `json:"recent"`
}

// Percentiles are nearest-rank percentiles of a set of durations, each within
// PercentileRelativeError of the exact value.
type Percentiles struct {
	Count uint64        `json:"count"`
	P50   time.Duration `json:"-"`
	P90   time.Duration `json:"-"`
	P95   time.Duration `json:"-"`
	P99   time.Duration `json:"-"`
	// Since is when the observations begin (the start of the recent window,
	// or the start of monitoring).
	Since time.Time `json:"since"`
}

// Average returns the mean over all operations, failed ones included, and
// false when there were none.
func (s LatencySummary) Average() (time.Duration, bool) {
	if s.Count == 0 {
		return 0, false
	}
	return s.Sum / time.Duration(s.Count), true
}

// summarize reads the stats as of now, first moving the recent window
// forward; scratch is reused to avoid a 5 KiB allocation per read.
func (l *latencyStats) summarize(now time.Time, window time.Duration, started time.Time, scratch *histCounts) LatencySummary {
	l.recent.rotate(now, window)
	s := LatencySummary{
		Count:  l.count.Load(),
		Errors: l.errors.Load(),
		Sum:    time.Duration(l.sumNs.Load()),
	}
	if s.Count == 0 {
		return s
	}
	s.Min = time.Duration(l.minNs.Load())
	s.Max = time.Duration(l.maxNs.Load())
	*scratch = histCounts{}
	l.total.addTo(scratch)
	s.SinceStart = scratch.percentiles(s.Min, s.Max)
	s.SinceStart.Since = started
	*scratch = histCounts{}
	since := l.recent.read(scratch)
	s.Recent = scratch.percentiles(s.Min, s.Max)
	s.Recent.Since = since
	return s
}

func (h *histCounts) percentiles(lo, hi time.Duration) Percentiles {
	p := Percentiles{Count: h.n}
	p.P50, _ = h.percentile(0.50, lo, hi)
	p.P90, _ = h.percentile(0.90, lo, hi)
	p.P95, _ = h.percentile(0.95, lo, hi)
	p.P99, _ = h.percentile(0.99, lo, hi)
	return p
}
