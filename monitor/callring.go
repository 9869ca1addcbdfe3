package monitor

import (
	"context"
	"iter"
	"sync"
	"sync/atomic"
	"unsafe"
)

// DefaultCallRing is how many recent calls a monitor keeps.
const DefaultCallRing = 10_000

// callRing keeps the most recent calls, and fans each one out to its
// subscribers. Each slot has a lock of its own and calls are numbered by
// an atomic counter, so that recorders on different cores do not queue on
// one lock.
type callRing struct {
	slots []callSlot // a ring; nil keeps none
	subs  Fanout[Call]
	_     linePad
	last  atomic.Uint64 // written by every recorder: a line of its own
	_     linePad
}

// A callSlot fills whole cache lines, so that recorders on two cores, which
// write neighbouring slots, do not take a line from each other.
type callSlot struct {
	slotData
	_ [(cacheLine - unsafe.Sizeof(slotData{})%cacheLine) % cacheLine]byte
}

type slotData struct {
	mu sync.Mutex
	c  Call // c.ID is 0 until the slot is first written
}

func (r *callRing) init(size int) {
	if size > 0 {
		r.slots = make([]callSlot, size)
	}
}

// add numbers c, keeps it and publishes it.
func (r *callRing) add(c *Call) uint64 {
	c.ID = r.last.Add(1)
	if n := uint64(len(r.slots)); n > 0 {
		s := &r.slots[(c.ID-1)%n]
		s.mu.Lock()
		// A recorder that stalled a whole lap must not overwrite a newer
		// call.
		if s.c.ID < c.ID {
			s.c = *c
		}
		s.mu.Unlock()
	}
	if r.subs.Len() > 0 { // spares copying the call into Publish's argument
		r.subs.Publish(*c)
	}
	return c.ID
}

// RecentCalls returns up to n of the calls kept, newest first, starting
// below the call numbered before (0: from the newest), so that a reader
// pages back with the ID of the last call it got. It returns fewer when the
// ring holds no older ones (it keeps Options.CallRing calls), and skips a
// call whose recorder has numbered but not yet stored it. Safe for
// concurrent use.
func (m *Monitor) RecentCalls(before uint64, n int) []Call {
	if n <= 0 {
		return nil
	}
	var out []Call
	for c := range m.CallsBefore(before) {
		out = append(out, c)
		if len(out) == n {
			break
		}
	}
	return out
}

// CallsBefore yields the calls kept, newest first, starting below the call
// numbered before (0: from the newest), for readers that filter as they go
// and stop when they have enough. Like RecentCalls it skips a call not yet
// stored, and ends where the ring has been overwritten. Each slot is
// locked only while its call is copied, never while the caller looks at
// it. Safe for concurrent use.
func (m *Monitor) CallsBefore(before uint64) iter.Seq[Call] {
	return func(yield func(Call) bool) {
		r := &m.calls
		size := uint64(len(r.slots))
		if size == 0 {
			return
		}
		newest := r.last.Load()
		if before != 0 && before-1 < newest {
			newest = before - 1
		}
		for id := newest; id >= 1 && id+size > newest; id-- {
			s := &r.slots[(id-1)%size]
			s.mu.Lock()
			c := s.c
			s.mu.Unlock()
			switch {
			case c.ID == id:
				if !yield(c) {
					return
				}
			case c.ID > id:
				return // overwritten: the older ones are gone too
			}
		}
	}
}

// LastCallID is the ID of the newest call recorded, 0 before the first.
func (m *Monitor) LastCallID() uint64 { return m.calls.last.Load() }

// SubscribeCalls returns a channel that receives every call recorded from
// now on, until ctx ends, when it is closed. A reader that falls more than
// buf calls behind loses the oldest ones (buf < 1 means 1): a slow reader
// never slows a call.
func (m *Monitor) SubscribeCalls(ctx context.Context, buf int) <-chan Call {
	return m.calls.subs.Subscribe(ctx, buf)
}
