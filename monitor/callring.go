package monitor

import (
	"context"
	"sync"
)

// DefaultCallRing is how many recent calls a monitor keeps.
const DefaultCallRing = 10_000

// callRing keeps the most recent calls, and fans each one out to its
// subscribers.
type callRing struct {
	mu   sync.Mutex
	buf  []Call // a ring; nil keeps none
	last uint64 // ID of the newest call; calls are numbered from 1
	subs Fanout[Call]
}

func (r *callRing) init(size int) {
	if size > 0 {
		r.buf = make([]Call, size)
	}
}

// add numbers c, keeps it and publishes it.
func (r *callRing) add(c *Call) uint64 {
	r.mu.Lock()
	r.last++
	c.ID = r.last
	if n := uint64(len(r.buf)); n > 0 {
		r.buf[(c.ID-1)%n] = *c
	}
	r.mu.Unlock()
	r.subs.Publish(*c)
	return c.ID
}

// RecentCalls returns up to n of the calls kept, newest first, starting
// below the call numbered before (0: from the newest), so that a reader
// pages back with the ID of the last call it got. It returns fewer when the
// ring holds no older ones: the ring keeps Options.CallRing calls. Safe
// for concurrent use; it copies under a lock the recorders share, so read
// in pages of hundreds, not the whole ring at once.
func (m *Monitor) RecentCalls(before uint64, n int) []Call {
	r := &m.calls
	r.mu.Lock()
	defer r.mu.Unlock()
	size := uint64(len(r.buf))
	if size == 0 || n <= 0 {
		return nil
	}
	newest := r.last
	if before != 0 && before-1 < newest {
		newest = before - 1
	}
	var oldest uint64 = 1 // the oldest ID still in the ring
	if r.last > size {
		oldest = r.last - size + 1
	}
	if newest < oldest {
		return nil
	}
	count := min(uint64(n), newest-oldest+1)
	out := make([]Call, 0, count)
	for id := newest; id >= oldest && uint64(len(out)) < count; id-- {
		out = append(out, r.buf[(id-1)%size])
	}
	return out
}

// LastCallID is the ID of the newest call recorded, 0 before the first.
func (m *Monitor) LastCallID() uint64 {
	m.calls.mu.Lock()
	defer m.calls.mu.Unlock()
	return m.calls.last
}

// SubscribeCalls returns a channel that receives every call recorded from
// now on, until ctx ends, when it is closed. A reader that falls more than
// buf calls behind loses the oldest ones (buf < 1 means 1): a slow reader
// never slows a call.
func (m *Monitor) SubscribeCalls(ctx context.Context, buf int) <-chan Call {
	return m.calls.subs.Subscribe(ctx, buf)
}
