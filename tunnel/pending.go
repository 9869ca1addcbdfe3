package tunnel

import (
	"sync"
	"time"
)

// A call is a request awaiting its response. T is what the transport keeps
// with it beyond what every transport needs (stdioCall for stdio, nothing
// for HTTP).
type call[T any] struct {
	method string
	tool   string // params.name, for tools/call
	start  time.Time
	// session is the MCP session the request belongs to, recorded with
	// it: an HTTP server's requests carry their Mcp-Session-Id.
	session string
	state   callState
	at      T
	// req is what the call log keeps of a client's request.
	req reqExtra
}

// callState is where a pending request stands.
type callState uint8

const (
	// waiting: its answer is to be relayed and timed.
	waiting callState = iota
	// cancelled: its sender cancelled it. It has been recorded, and is
	// kept only to recognise a late answer, which no one reads.
	cancelled
	// orphaned: the server that sent it is gone (a stdio child that
	// exited). It has been recorded; an answer to it goes nowhere, since
	// the next server may use its id for another request.
	orphaned
	// replaying: the tunnel's own replay of initialize to a restarted
	// stdio child. Its answer is the tunnel's, not the client's.
	replaying
)

// pendingTable holds the requests of one direction awaiting a response,
// keyed by the raw bytes of their id: a client that sent 1 is answered
// with 1, and "1" is another request. Safe for concurrent use; the lock is
// held for a map operation only.
type pendingTable[T any] struct {
	mu sync.Mutex
	m  map[string]call[T]
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

// add records a request; it reports false when the table is full, or the
// id is waiting already, and the request will not be timed.
func (t *pendingTable[T]) add(id []byte, c call[T]) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]call[T]{}
	}
	if len(t.m) >= maxPending {
		return false
	}
	if old, ok := t.m[string(id)]; ok && old.state == waiting {
		// The id is in flight: the first request keeps it, and the
		// second is relayed untimed. One whose sender cancelled it, or
		// whose server is gone, gives its id up.
		return false
	}
	t.m[string(id)] = c
	return true
}

// take removes and returns the request with the given id.
func (t *pendingTable[T]) take(id []byte) (call[T], bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.m[string(id)]
	if ok {
		delete(t.m, string(id))
	}
	return c, ok
}

// cancel marks the request with the given id cancelled, and returns it,
// unless it is gone or no longer waiting: orphaned, cancelled already, or
// the tunnel's own replay (which the client cannot cancel: it does not
// know of it).
func (t *pendingTable[T]) cancel(id []byte) (call[T], bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.m[string(id)]
	if !ok || c.state != waiting {
		return call[T]{}, false
	}
	c.state = cancelled
	t.m[string(id)] = c
	if len(t.cancelled) < keepCancelled {
		t.cancelled = append(t.cancelled, string(id))
		return c, true
	}
	// The oldest leaves, unless its id has been answered or reused since.
	if old, ok := t.m[t.cancelled[t.next]]; ok && old.state == cancelled {
		delete(t.m, t.cancelled[t.next])
	}
	t.cancelled[t.next] = string(id)
	t.next = (t.next + 1) % keepCancelled
	return c, true
}

// drain removes and returns every request for which match is true.
func (t *pendingTable[T]) drain(match func(call[T]) bool) map[string]call[T] {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]call[T]{}
	for id, c := range t.m {
		if match(c) {
			out[id] = c
			delete(t.m, id)
		}
	}
	return out
}

// orphan marks the waiting requests for which match is true orphaned,
// calling fn for each first; the others have been recorded already, or
// are the tunnel's own, and are left as they are.
func (t *pendingTable[T]) orphan(match func(call[T]) bool, fn func(call[T])) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, c := range t.m {
		if c.state == waiting && match(c) {
			fn(c)
			c.state = orphaned
			t.m[id] = c
		}
	}
}
