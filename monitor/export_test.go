package monitor

import (
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestDurationBoundsAreTheConventions checks the exported bounds against
// the OpenTelemetry MCP boundaries and the finer ones below 10 ms.
func TestDurationBoundsAreTheConventions(t *testing.T) {
	ms := time.Millisecond
	want := []time.Duration{ms / 2, ms, 5 * ms / 2, 5 * ms,
		10 * ms, 20 * ms, 50 * ms, 100 * ms, 200 * ms, 500 * ms,
		time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second,
		30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute}
	got := DurationBounds()
	if len(got) != len(want) {
		t.Fatalf("bounds %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("bound %d = %v, want %v", i, got[i], want[i])
		}
		// boundIndex's single comparison needs bounds twice apart.
		if i > 0 && got[i] < 2*got[i-1] {
			t.Errorf("bounds %v and %v closer than a factor 2", got[i-1], got[i])
		}
	}
	got[0] = time.Hour
	if DurationBounds()[0] != ms/2 {
		t.Error("DurationBounds returned the package's own array")
	}
}

// TestBoundIndexIsExact compares the table lookup with a plain search at
// every bound, around it, and at the edges of every log-linear bucket.
func TestBoundIndexIsExact(t *testing.T) {
	search := func(ns uint64) int {
		for i, b := range durationBounds {
			if ns <= uint64(b) {
				return i
			}
		}
		return len(durationBounds)
	}
	var values []uint64
	for _, b := range durationBounds {
		values = append(values, uint64(b)-1, uint64(b), uint64(b)+1)
	}
	for b := range histBuckets {
		lo, hi := bucketBounds(b)
		values = append(values, uint64(lo), uint64(hi)-1)
	}
	values = append(values, 0, 1<<46, 1<<62)
	for _, ns := range values {
		if got, want := boundIndex(ns, bucketOf(ns)), search(ns); got != want {
			t.Errorf("%d ns: export bucket %d, want %d", ns, got, want)
		}
	}
}

func TestToolHistogramsExact(t *testing.T) {
	m, _ := newTestMonitor(Options{})
	ms := time.Millisecond
	// Successes at and around bounds: exactly 10 ms is at or below le=0.01,
	// a nanosecond more is not; 3 ms is above le=0.0025 and at or below 0.005.
	for _, d := range []time.Duration{ms / 2, 3 * ms, 10 * ms, 10*ms + 1, 400 * time.Second} {
		m.RecordToolCall("t", d, "")
	}
	m.RecordToolCall("t", 50*ms, "tool_error")
	m.RecordToolCall("t", 2*time.Second, "tool_error")
	m.RecordToolCall("t", 500*ms, "-32001")
	got := map[string]HistogramExport{}
	for _, h := range m.LiveToolHistograms() {
		got[h.Tool+"/"+h.ErrorType] = h
	}
	bounds := DurationBounds()
	// le gives the cumulative count wanted at each bound named.
	check := func(key string, count uint64, sum time.Duration, le map[time.Duration]uint64) {
		t.Helper()
		h := got[key]
		if h.Count != count || h.Sum != sum || len(h.Buckets) != len(bounds) {
			t.Fatalf("%s: %+v", key, h)
		}
		for i, b := range bounds {
			if want, ok := le[b]; ok && h.Buckets[i] != want {
				t.Errorf("%s: le=%v holds %d, want %d", key, b, h.Buckets[i], want)
			}
		}
	}
	check("t/", 5, ms/2+3*ms+20*ms+1+400*time.Second, map[time.Duration]uint64{
		ms / 2: 1, ms: 1, 5 * ms / 2: 1, 5 * ms: 2, 10 * ms: 3, 20 * ms: 4, 300 * time.Second: 4})
	check("t/tool_error", 2, 2050*ms, map[time.Duration]uint64{20 * ms: 0, 50 * ms: 1, time.Second: 1, 2 * time.Second: 2})
	check("t/-32001", 1, 500*ms, map[time.Duration]uint64{200 * ms: 0, 500 * ms: 1})
	s := m.Sample(t.Context()).Tools["t"]
	if s.Count != 8 || s.Errors != 3 || s.ErrorTypes["tool_error"] != 2 || s.ErrorTypes["-32001"] != 1 || s.SinceStart.Count != 8 {
		t.Errorf("summary %+v", s.LatencySummary)
	}
	// A second read sees the same: reading moves nothing out of the counts.
	for _, h := range m.LiveToolHistograms() {
		if h.Tool == "t" && h.ErrorType == "" && (h.Count != 5 || h.Buckets[4] != 3) {
			t.Errorf("second read: %+v", h)
		}
	}
}

// TestToolHistogramsConsistentUnderWrites reads histograms while two
// goroutines record: every read must hold count, sum and buckets of one
// moment. One writer records 1 ms and the other 100 ms, so a read's sum is
// determined by its bucket at le=0.001 and its count. Run under -race.
func TestToolHistogramsConsistentUnderWrites(t *testing.T) {
	m, _ := newTestMonitor(Options{})
	const perWriter = 20000
	fast, slow := time.Millisecond, 100*time.Millisecond
	var wg sync.WaitGroup
	for _, d := range []time.Duration{fast, slow} {
		wg.Go(func() {
			for range perWriter {
				m.RecordToolCall("t", d, "")
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	atFast := 1 // index of le=0.001
	check := func(h HistogramExport) bool {
		t.Helper()
		last := h.Buckets[len(h.Buckets)-1]
		nFast := h.Buckets[atFast]
		if h.Count != last || h.Sum != time.Duration(nFast)*fast+time.Duration(h.Count-nFast)*slow {
			t.Errorf("torn read: count %d, last bucket %d, %d at le=0.001, sum %v", h.Count, last, nFast, h.Sum)
			return false
		}
		for i := 1; i < len(h.Buckets); i++ {
			if h.Buckets[i] < h.Buckets[i-1] {
				t.Errorf("buckets not cumulative: %v", h.Buckets)
				return false
			}
		}
		return true
	}
	reads := 0
	for running := true; running; reads++ {
		select {
		case <-done:
			running = false
		default:
		}
		for _, h := range m.LiveToolHistograms() {
			if !check(h) {
				return
			}
		}
	}
	hs := m.LiveToolHistograms()
	if len(hs) != 1 || hs[0].Count != 2*perWriter || hs[0].Buckets[atFast] != perWriter {
		t.Errorf("after the writers: %+v", hs)
	}
	t.Logf("%d reads", reads)
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
	for _, h := range m.LiveToolHistograms() {
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
	if r := m.Latest().Methods["initialize"]; r.Count != 1 {
		t.Errorf("snapshot methods: %+v", r)
	}
}
