package monitor

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ringCall is call number v of TestCallRingReadersNeverSeeATornCall: every
// field derives from v, so that a call made of two calls' fields shows.
func ringCall(v int64, tools, sessions []string) Call {
	c := Call{
		Start: time.Unix(0, v), Duration: time.Duration(v), Method: "ping",
		Tool: tools[v%int64(len(tools))], Session: sessions[v%int64(len(sessions))],
		Transport: TransportStdio, RequestBytes: v, ResponseBytes: 2*v + 1,
	}
	for i := range c.TraceID {
		c.TraceID[i] = byte(v)
	}
	for i := range c.SpanID {
		c.SpanID[i] = byte(v >> 8)
	}
	return c
}

// TestCallRingReadersNeverSeeATornCall records into a ring of 8 from four
// goroutines, so that recorders lap it all the time, while two readers
// page through it and a third patches token counts in (RecordResponse):
// every call read is whole, the one recorded under its ID, with only its
// own token count. Run under -race, which also checks the ring's
// protocol for unsynchronised accesses.
func TestCallRingReadersNeverSeeATornCall(t *testing.T) {
	// The recorders go on until the readers have read minReads calls, for
	// at most 10 s.
	const writers, perWriter, ring, minReads = 4, 5000, 8, 20_000
	m := New(Options{DisableSystem: true, CallRing: ring})
	tools := []string{"search", "read_graph", "code_analysis"}
	sessions := []string{"s-1", "s-2", "s-3", "s-4", "s-5"}
	check := func(c Call) error {
		v := int64(c.Duration)
		want := ringCall(v, tools, sessions)
		want.ID, want.ResponseTokens = c.ID, c.ResponseTokens
		if !c.Start.Equal(want.Start) {
			return fmt.Errorf("call %d: start %v, want %v", c.ID, c.Start, want.Start)
		}
		want.Start = c.Start
		if c != want {
			return fmt.Errorf("call %d is torn: %+v", c.ID, c)
		}
		if c.ResponseTokens != 0 && c.ResponseTokens != int64(c.ID)*3 {
			return fmt.Errorf("call %d carries %d tokens, another call's", c.ID, c.ResponseTokens)
		}
		return nil
	}

	var reads atomic.Int64
	deadline := time.Now().Add(10 * time.Second)
	var recorders sync.WaitGroup
	for w := range writers {
		recorders.Go(func() {
			for i := int64(0); i < perWriter || reads.Load() < minReads && time.Now().Before(deadline); i++ {
				m.RecordCall(ringCall(int64(w)<<40+i, tools, sessions))
			}
		})
	}
	stop := make(chan struct{})
	var others sync.WaitGroup
	// repeat runs step in a goroutine until stop closes, or step fails.
	repeat := func(step func() bool) {
		others.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if !step() {
					return
				}
			}
		})
	}
	for range 2 {
		repeat(func() bool {
			var prev uint64
			for c := range m.CallsBefore(0) {
				if prev != 0 && c.ID >= prev {
					t.Errorf("call %d after %d: not newest first", c.ID, prev)
					return false
				}
				prev = c.ID
				if err := check(c); err != nil {
					t.Error(err)
					return false
				}
				reads.Add(1)
			}
			return true
		})
	}
	repeat(func() bool {
		if id := m.LastCallID(); id > 0 {
			m.RecordResponse(id, "", 0, int64(id)*3)
		}
		return true
	})
	recorders.Wait()
	close(stop)
	others.Wait()

	if reads.Load() < minReads {
		t.Errorf("the readers read %d calls while the recorders ran, want %d", reads.Load(), minReads)
	}
	got, last := m.RecentCalls(0, 2*ring), m.LastCallID()
	if len(got) != ring || got[0].ID != last || last < writers*perWriter {
		t.Fatalf("after the recorders: %d calls, the newest %d; want %d, the newest %d", len(got), got[0].ID, ring, last)
	}
	for _, c := range got {
		if err := check(c); err != nil {
			t.Error(err)
		}
	}
	t.Logf("%d calls read while %d were recorded", reads.Load(), last)
}
