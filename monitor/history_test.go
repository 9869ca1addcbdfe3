package monitor

import (
	"runtime"
	"strconv"
	"testing"
	"time"
)

// TestHeapFlatOnceRetentionIsFull samples far past the retention bound and
// checks that the heap stops growing once the history is full: old
// snapshots are released, nothing else accumulates.
func TestHeapFlatOnceRetentionIsFull(t *testing.T) {
	const keep = 200
	m, clock := newTestMonitor(Options{MaxSamples: keep})
	for i := range 5 {
		m.RecordToolUsage("tool_"+strconv.Itoa(i), time.Millisecond, true)
	}
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	run := func(n int) {
		for range n {
			clock.Advance(time.Second)
			m.RecordToolUsage("tool_1", time.Millisecond, true)
			m.Sample(t.Context())
		}
	}
	run(keep) // fill
	full := heap()
	run(3 * keep) // turn the ring over three times
	after := heap()
	if n := len(m.History()); n != keep {
		t.Fatalf("history holds %d, want %d", n, keep)
	}
	// A snapshot of 5 tools is a few KB; growth by even 10 % of the
	// retained history would mean snapshots leak.
	perSnapshot := m.Latest().approxBytes
	if after > full && after-full > uint64(keep*perSnapshot/10) {
		t.Errorf("heap grew from %d to %d bytes after the history was full (snapshot ≈ %d B)", full, after, perSnapshot)
	}
	t.Logf("heap %d → %d bytes with %d samples of ≈%d B retained", full, after, keep, perSnapshot)
}
