package monitor

import (
	"testing"
	"time"
)

// TestCustomLookupsDoNotAllocate checks the promise custom metrics make:
// once a name is in use, getting its handle again allocates nothing.
func TestCustomLookupsDoNotAllocate(t *testing.T) {
	m, _ := newTestMonitor(Options{})
	tests := []struct {
		name string
		get  func()
	}{
		{"Counter", func() { m.Counter("documents_indexed").Inc() }},
		{"Gauge", func() { m.Gauge("queue_depth").Set(3) }},
		{"Timer", func() { m.Timer("embedding").Observe(time.Millisecond, true) }},
		{"TrackCustomMetric", func() { m.TrackCustomMetric("queue_depth", 4) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.get() // names the metric
			if n := testing.AllocsPerRun(100, tt.get); n != 0 {
				t.Errorf("%v allocations per call once named, want 0", n)
			}
		})
	}
}

// TestCustomNameIsCopied checks that the registry keeps its own copy of a
// new name, not the caller's bytes, which the caller may reuse.
func TestCustomNameIsCopied(t *testing.T) {
	m, _ := newTestMonitor(Options{})
	buf := []byte("first")
	m.Counter(string(buf)).Inc()
	copy(buf, "other")
	m.Counter(string(buf)).Add(2)
	s := m.Sample(t.Context())
	if s.Custom.Counters["first"] != 1 || s.Custom.Counters["other"] != 2 {
		t.Errorf("counters %v", s.Custom.Counters)
	}
}
