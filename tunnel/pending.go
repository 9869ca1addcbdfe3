package tunnel

import (
	"sync"
	"time"
)

// A call is a request awaiting its response.
type call struct {
	method string
	tool   string // params.name, for tools/call
	start  time.Time
	// gen is the child the request went to or came from (stdio).
	gen uint64
	// line is kept for the client's initialize only, to replay it to a
	// restarted child once it has succeeded.
	line []byte
	// replay marks the tunnel's own replay of initialize, whose response
	// the client must not see.
	replay bool
	// session is the MCP session of a server's request (HTTP).
	session string
	// stale marks a request of a child that has exited (stdio).
	stale bool
	// cancelled marks a request its sender cancelled (stdio): it has been
	// recorded, and is kept only to recognise a late answer to it.
	cancelled bool
}

// pendingTable holds the requests of one direction awaiting a response,
// keyed by the raw bytes of their id: a client that sent 1 is answered
// with 1, and "1" is another request. Safe for concurrent use; the lock is
// held for a map operation only.
type pendingTable struct {
	mu sync.Mutex
	m  map[string]call
	// cancelled holds the ids of the last keepCancelled requests
	// cancelled, oldest at next once full, so that each leaves the
	// table at the latest when keepCancelled others have been cancelled
	// after it.
	cancelled []string
	next      int
}

// keepCancelled bounds the cancelled requests kept for their late
// answers. A server that honours a cancellation never answers, so the
// entries would otherwise stay until the server exits; an answer that
// raced the cancellation comes soon after it, long before a thousand
// other requests have been cancelled.
const keepCancelled = 1024

// add records a request; it reports false when the table is full and the
// request will not be timed.
func (t *pendingTable) add(id []byte, c call) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]call{}
	}
	if len(t.m) >= maxPending {
		return false
	}
	t.m[string(id)] = c
	return true
}

// take removes and returns the request with the given id.
func (t *pendingTable) take(id []byte) (call, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.m[string(id)]
	if ok {
		delete(t.m, string(id))
	}
	return c, ok
}

// cancel marks the request with the given id cancelled, and returns it,
// unless it is gone, stale, cancelled already, or the tunnel's own replay
// (which the client cannot cancel: it does not know of it).
func (t *pendingTable) cancel(id []byte) (call, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.m[string(id)]
	if !ok || c.stale || c.cancelled || c.replay {
		return call{}, false
	}
	c.cancelled = true
	t.m[string(id)] = c
	if len(t.cancelled) < keepCancelled {
		t.cancelled = append(t.cancelled, string(id))
		return c, true
	}
	// The oldest leaves, unless its id has been answered or reused since.
	if old, ok := t.m[t.cancelled[t.next]]; ok && old.cancelled {
		delete(t.m, t.cancelled[t.next])
	}
	t.cancelled[t.next] = string(id)
	t.next = (t.next + 1) % keepCancelled
	return c, true
}

// drain removes and returns every request for which keep is true.
func (t *pendingTable) drain(keep func(call) bool) map[string]call {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]call{}
	for id, c := range t.m {
		if keep(c) {
			out[id] = c
			delete(t.m, id)
		}
	}
	return out
}

// markStale marks the requests of child gen stale, calling fn for each;
// cancelled ones have been recorded already and are left as they are.
func (t *pendingTable) markStale(gen uint64, fn func(call)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, c := range t.m {
		if c.gen == gen && !c.stale && !c.cancelled {
			fn(c)
			c.stale = true
			t.m[id] = c
		}
	}
}
