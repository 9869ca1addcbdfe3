package monitor

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

func approxEq(a, b float64) bool { return math.Abs(a-b) < 1e-9*math.Max(1, math.Abs(b)) }

func TestRatesOverIntervalAndMinute(t *testing.T) {
	ctx := context.Background()
	m, clock := newTestMonitor(Options{})
	first := m.Sample(ctx)
	if first.Rates.Throughput.LastMinute.OK {
		t.Fatalf("first sample has a throughput: %v", first.Rates.Throughput.LastMinute)
	}
	// Six samples 10 s apart; in each interval i, i calls of which one fails,
	// 3 cache hits and 1 miss, and 2 queries of 4 ms.
	for i := 1; i <= 6; i++ {
		clock.Advance(10 * time.Second)
		for j := 0; j < i; j++ {
			m.RecordToolUsage("enhanced_memory", 5*time.Millisecond, j != 0)
		}
		for range 3 {
			m.RecordCacheLookup(true)
		}
		m.RecordCacheLookup(false)
		m.ObserveQuery(4*time.Millisecond, nil)
		m.ObserveQuery(4*time.Millisecond, errors.New("locked"))
		m.Sample(ctx)
	}
	s := m.Latest()
	r := s.Rates
	if r.IntervalSpan != 10*time.Second || r.MinuteSpan != time.Minute {
		t.Fatalf("spans %v / %v, want 10s / 1m", r.IntervalSpan, r.MinuteSpan)
	}
	checks := []struct {
		name string
		got  metric.Reading
		want float64
	}{
		{"throughput last interval", r.Throughput.LastInterval, 6.0 / 10},
		{"throughput last minute", r.Throughput.LastMinute, 21.0 / 60},
		{"error rate last interval", r.ErrorRate.LastInterval, 100.0 / 6},
		{"error rate last minute", r.ErrorRate.LastMinute, 100 * 6.0 / 21},
		{"cache hit rate", r.CacheHitRate.LastMinute, 75},
		{"query average", r.QueryAverage.LastMinute, 4},
		{"query error rate", r.QueryErrorRate.LastInterval, 50},
		{"tool calls per second", s.Tools["enhanced_memory"].CallsPerSecond, 21.0 / 60},
	}
	for _, c := range checks {
		if !c.got.OK || !approxEq(c.got.Value, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	// An idle interval: no calls is a throughput of 0, but the error and
	// cache rates have nothing to divide and are unavailable, not 0.
	clock.Advance(10 * time.Second)
	s = m.Sample(ctx)
	if got := s.Rates.Throughput.LastInterval; !got.OK || got.Value != 0 {
		t.Errorf("idle throughput %v, want 0", got)
	}
	for name, got := range map[string]metric.Reading{
		"error rate": s.Rates.ErrorRate.LastInterval, "cache": s.Rates.CacheHitRate.LastInterval, "query": s.Rates.QueryAverage.LastInterval,
	} {
		if got.OK || got.Reason == "" {
			t.Errorf("idle %s = %v, want unavailable with a reason", name, got)
		}
	}
}

func TestGauges(t *testing.T) {
	m, _ := newTestMonitor(Options{})
	entries := 1250.0
	if err := m.RegisterGauge(GaugeMemoryEntries, func() (float64, error) { return entries, nil }); err != nil {
		t.Fatal(err)
	}
	if err := m.RegisterGauge(GaugeRelationships, func() (float64, error) { return 0, errors.New("database is locked") }); err != nil {
		t.Fatal(err)
	}
	if err := m.RegisterGauge("queue_depth", func() (float64, error) { panic("boom") }); err != nil {
		t.Fatal(err)
	}
	if err := m.RegisterGauge("", nil); err == nil {
		t.Error("RegisterGauge accepted an empty name and nil func")
	}
	s := m.Sample(context.Background())
	tests := []struct {
		name   string
		ok     bool
		value  float64
		reason string
	}{
		{GaugeMemoryEntries, true, 1250, ""},
		{GaugeRelationships, false, 0, "database is locked"},
		{"queue_depth", false, 0, "gauge panicked: boom"},
		{GaugeActiveConnections, false, 0, "no source registered for active_connections"},
	}
	for _, tt := range tests {
		got := s.Gauge(tt.name)
		if got.OK != tt.ok || got.Value != tt.value || got.Reason != tt.reason {
			t.Errorf("gauge %s = %+v, want ok=%v value=%v reason=%q", tt.name, got, tt.ok, tt.value, tt.reason)
		}
	}
}

func TestCustomMetrics(t *testing.T) {
	m, _ := newTestMonitor(Options{})
	m.Counter("documents_indexed").Add(3)
	m.Counter("documents_indexed").Inc()
	m.Counter("documents_indexed").Add(-5) // ignored: counters only go up
	m.TrackCustomMetric("queue_depth", 17)
	m.Timer("embedding").Observe(20*time.Millisecond, true)
	m.Timer("embedding").Observe(40*time.Millisecond, false)
	s := m.Sample(context.Background())
	if got := s.Custom.Counters["documents_indexed"]; got != 4 {
		t.Errorf("counter = %v, want 4", got)
	}
	if got := s.Custom.Gauges["queue_depth"]; got != 17 {
		t.Errorf("gauge = %v, want 17", got)
	}
	tm := s.Custom.Timers["embedding"]
	if avg, _ := tm.Average(); tm.Count != 2 || tm.Errors != 1 || avg != 30*time.Millisecond {
		t.Errorf("timer count %d errors %d avg %v", tm.Count, tm.Errors, avg)
	}
	for _, series := range []string{"custom.documents_indexed", "custom.queue_depth", "custom.embedding.p95_ms"} {
		if r, ok := s.Series(series); !ok || !r.OK {
			t.Errorf("series %s = %v, %v", series, r, ok)
		}
	}
}

func TestHistoryRetention(t *testing.T) {
	ctx := context.Background()
	t.Run("by count", func(t *testing.T) {
		m, clock := newTestMonitor(Options{MaxSamples: 5})
		for range 12 {
			m.Sample(ctx)
			clock.Advance(time.Second)
		}
		h := m.History()
		if len(h) != 5 || h[0].Seq != 8 || h[4].Seq != 12 {
			t.Fatalf("history holds %d samples, seq %d..%d; want 5, 8..12", len(h), h[0].Seq, h[len(h)-1].Seq)
		}
	})
	t.Run("by age", func(t *testing.T) {
		m, clock := newTestMonitor(Options{MaxSamples: 100, MaxAge: 10 * time.Second})
		for range 30 {
			m.Sample(ctx)
			clock.Advance(time.Second)
		}
		h := m.History()
		if age := h[len(h)-1].Time.Sub(h[0].Time); len(h) != 11 || age > 10*time.Second {
			t.Fatalf("history holds %d samples over %v; want 11 over ≤10s", len(h), age)
		}
		if since := m.Since(h[len(h)-1].Time.Add(-3 * time.Second)); len(since) != 4 {
			t.Errorf("Since(-3s) returned %d samples, want 4", len(since))
		}
	})
}
