package monitor

import (
	"testing"
	"time"
)

func TestToolHistogramsExact(t *testing.T) {
	m, _ := newTestMonitor(Options{})
	bounds := ExactBounds([]time.Duration{10 * time.Millisecond, 100 * time.Millisecond, time.Second})
	for i, b := range bounds {
		want := []time.Duration{10 * time.Millisecond, 100 * time.Millisecond, time.Second}[i]
		if b < want || float64(b-want) > float64(want)/16 {
			t.Errorf("bound %v for %v", b, want)
		}
	}
	// 3 fast successes, 1 slow success, 2 tool errors, 1 timeout.
	for _, d := range []time.Duration{time.Millisecond, 2 * time.Millisecond, bounds[0]} {
		m.RecordToolCall("t", d, "")
	}
	m.RecordToolCall("t", bounds[0]+1, "") // just past the first bound
	m.RecordToolCall("t", 50*time.Millisecond, "tool_error")
	m.RecordToolCall("t", 2*time.Second, "tool_error")
	m.RecordToolCall("t", 500*time.Millisecond, "-32001")
	got := map[string]HistogramExport{}
	for _, h := range m.ToolHistograms(bounds) {
		got[h.Tool+"/"+h.ErrorType] = h
	}
	check := func(key string, count uint64, sum time.Duration, buckets ...uint64) {
		t.Helper()
		h := got[key]
		if h.Count != count || h.Sum != sum || len(h.Buckets) != len(buckets) {
			t.Fatalf("%s: %+v", key, h)
		}
		for i := range buckets {
			if h.Buckets[i] != buckets[i] {
				t.Errorf("%s bucket ≤%v = %d, want %d", key, bounds[i], h.Buckets[i], buckets[i])
			}
		}
	}
	check("t/", 4, 3*time.Millisecond+2*bounds[0]+1, 3, 4, 4)
	check("t/tool_error", 2, 2050*time.Millisecond, 0, 1, 1)
	check("t/-32001", 1, 500*time.Millisecond, 0, 0, 1)
	s := m.Sample(t.Context()).Tools["t"]
	if s.Count != 7 || s.Errors != 3 || s.ErrorTypes["tool_error"] != 2 || s.ErrorTypes["-32001"] != 1 || s.SinceStart.Count != 7 {
		t.Errorf("summary %+v", s.LatencySummary)
	}
}
