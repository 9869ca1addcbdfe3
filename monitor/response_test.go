package monitor

import (
	"sync"
	"testing"
	"time"
)

// TestTokenHistogramsConsistentUnderWrites reads the response-token
// histograms while two goroutines record: every read must hold the sum and
// the bucket counts of one moment, as the latency histograms do. One
// writer records answers of 5 tokens (le=10), the other of 200 (le=250), so
// a read's sum is determined by those two buckets. Run under -race.
func TestTokenHistogramsConsistentUnderWrites(t *testing.T) {
	m, _ := newTestMonitor(Options{})
	m.RecordToolCall("t", time.Millisecond, "") // RecordResponse counts for known tools only
	const perWriter = 20000
	const small, large = 5, 200
	atSmall, atLarge := 0, 4 // indexes of le=10 and le=250 in TokenBounds
	if TokenBounds[atSmall] != 10 || TokenBounds[atLarge] != 250 {
		t.Fatalf("TokenBounds changed: %v", TokenBounds)
	}
	var wg sync.WaitGroup
	for _, n := range []int64{small, large} {
		wg.Go(func() {
			for range perWriter {
				m.RecordResponse(0, "t", 0, n)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	check := func(h TokenHistogram) bool {
		t.Helper()
		var others uint64
		for i, c := range h.Counts {
			if i != atSmall && i != atLarge {
				others += c
			}
		}
		want := int64(h.Counts[atSmall])*small + int64(h.Counts[atLarge])*large
		if others != 0 || h.Sum != want {
			t.Errorf("torn read: sum %d, want %d from counts %v", h.Sum, want, h.Counts)
			return false
		}
		return true
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		for _, h := range m.LiveTokenHistograms() {
			if !check(h) {
				return
			}
		}
	}
	hs := m.LiveTokenHistograms()
	if len(hs) != 1 || hs[0].Counts[atSmall] != perWriter || hs[0].Counts[atLarge] != perWriter ||
		hs[0].Sum != perWriter*(small+large) {
		t.Errorf("after the writers: %+v", hs)
	}
	// Reading moves nothing out of the counts.
	if again := m.LiveTokenHistograms(); len(again) != 1 || again[0] != hs[0] {
		t.Errorf("second read: %+v, first %+v", again, hs)
	}
}
