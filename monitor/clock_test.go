package monitor

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// countingNow is the real clock, counting its reads.
func countingNow(n *atomic.Int64) func() time.Time {
	return func() time.Time {
		n.Add(1)
		return time.Now()
	}
}

// A monitor that only records, never started, reads the real clock once
// per resolution, not once per call.
func TestRecordToolUsageNotStartedReadsClockCoarsely(t *testing.T) {
	for _, started := range []bool{false, true} {
		t.Run(map[bool]string{false: "not started", true: "started"}[started], func(t *testing.T) {
			m := New(Options{DisableSystem: true})
			var reads atomic.Int64
			// A resolution no test outlives: the timer never refreshes, so
			// every read after the first is served from the coarse time.
			m.clock.now, m.clock.resolution = countingNow(&reads), time.Hour
			if started {
				if err := m.Start(t.Context(), time.Hour); err != nil {
					t.Fatal(err)
				}
				defer m.Stop()
			}
			for i := range 1000 {
				m.RecordToolUsage(benchTools[i&3], time.Millisecond, true)
				m.RecordToolCall(benchTools[i&3], time.Millisecond, "tool_error")
			}
			if n := reads.Load(); n != 1 {
				t.Errorf("2000 calls read the clock %d times, want once", n)
			}
		})
	}
}

// The first call after an idle spell reads the real clock, so its
// last-used time is exact.
func TestLastUsedOfNotStartedMonitor(t *testing.T) {
	m := New(Options{DisableSystem: true})
	before := time.Now()
	m.RecordToolUsage("enhanced_memory", time.Millisecond, true)
	after := time.Now()
	got := m.Sample(context.Background()).Tools["enhanced_memory"].LastUsed
	if got.Before(before) || got.After(after) {
		t.Errorf("last used %v, want between %v and %v", got, before, after)
	}
}

// The clock refreshes while it is read, stops after a period in which
// nobody read it, leaves no goroutine behind, and starts again on the
// next read.
func TestCoarseClockStopsWhenIdle(t *testing.T) {
	defer goleak.VerifyNone(t)
	// A resolution long beside the few instructions between a read and
	// the check after it, even on a loaded machine: a timer that fired in
	// between would find the clock unread and stop it.
	c := &coarseClock{now: time.Now, coarse: true, resolution: 50 * time.Millisecond}
	first := c.unixNano()
	c.mu.Lock()
	armed := c.timer != nil
	c.mu.Unlock()
	if !armed {
		t.Fatal("the clock did not start on its first read")
	}
	// Read until a refresh shows: the clock is kept fresh while in use.
	waitFor(t, "a refresh", func() bool { return c.unixNano() > first })
	// Idle: the timer's next run finds no reader and stops it.
	waitFor(t, "the idle clock to stop", func() bool { return !c.running.Load() })

	before := time.Now().UnixNano()
	if got := c.unixNano(); got < before || !c.running.Load() {
		t.Errorf("read after an idle spell: %d (running %v), want a fresh time at or after %d, running",
			got, c.running.Load(), before)
	}
	waitFor(t, "the idle clock to stop again", func() bool { return !c.running.Load() })
}

// waitFor polls cond until it holds; the generous bound only keeps a broken
// clock from hanging the test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
