package monitor

import (
	"strconv"
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

func TestMethodsRecordedAndExported(t *testing.T) {
	m, _ := newTestMonitor(Options{})
	m.RecordMethod("initialize", 2*time.Millisecond, "")
	m.RecordMethod("tools/call", 5*time.Millisecond, "")
	m.RecordMethod("tools/call", 7*time.Millisecond, "tool_error")
	m.RecordMethod("resources/read", time.Millisecond, "-32002")
	m.RecordToolCall("enhanced_memory", 5*time.Millisecond, "")
	for i := range 100 { // a client inventing method names
		m.RecordMethod("x/"+strconv.Itoa(i), time.Millisecond, "-32601")
	}
	s := m.Sample(t.Context())
	if tc := s.Methods["tools/call"]; tc.Count != 2 || tc.Errors != 1 || tc.ErrorTypes["tool_error"] != 1 {
		t.Errorf("tools/call = %+v", tc)
	}
	if len(s.Methods) > maxMethods+1 || s.Methods[OtherMethod].Count == 0 {
		t.Errorf("%d methods kept, other = %d", len(s.Methods), s.Methods[OtherMethod].Count)
	}
	if r, ok := s.Series("method.initialize.p50_ms"); !ok || !r.OK {
		t.Errorf("method series: %v %v", r, ok)
	}
	seen := map[string]bool{}
	for _, h := range m.ToolHistograms(ExactBounds([]time.Duration{time.Second})) {
		seen[h.Method+"|"+h.Tool+"|"+h.ErrorType] = true
	}
	for _, want := range []string{"tools/call|enhanced_memory|", "initialize||", "resources/read||-32002"} {
		if !seen[want] {
			t.Errorf("no histogram %q in %v", want, seen)
		}
	}
	if seen["tools/call||"] || seen["tools/call||tool_error"] {
		t.Error("tools/call exported as a method as well as per tool")
	}
	if r := m.Report().MethodMetrics["initialize"]; r.Count != 1 {
		t.Errorf("report method_metrics: %+v", r)
	}
}
