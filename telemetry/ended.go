package telemetry

import (
	"context"
	"sync"
)

// A proxy's request, once over, becomes its two spans and two durations
// (Pair.Ops, Op.End). Made on the request's goroutine, that work runs
// cold, between the client's and the server's turns on the machine's
// cores, at several times what it costs in a loop, and the next request
// waits for it (docs/BENCHMARKS.md, section 9). With spans exported in
// batches, Finish instead queues the request as it ended, and the
// exporting goroutine makes them all in one loop before it sends a batch.

// finished is a request as it ended, for Finish.
type finished struct {
	pair       Pair
	r          Request
	serverPeer string
	out        Outcome
}

// endings are the finished requests waiting to be made into spans and
// durations. None is ever dropped: durations are counts that must add
// up (a span queue that is full drops the spans made of them, as before).
// While the exporting goroutine is held up (a slow collector), at most
// limit wait; the others are finished on their own goroutine, as they
// were before they could wait.
type endings struct {
	// ending is held through an end: a caller of end (ForceFlush,
	// Shutdown) returns only once the requests another end took are made
	// too, so that no duration is recorded after the metrics' last export.
	ending sync.Mutex
	mu     sync.Mutex
	list   []finished
	spare  []finished
	closed bool
	// wake tells the exporting goroutine that a batch's worth waits.
	wake  chan struct{}
	at    int // the length that wakes it
	limit int
}

// newEndings wakes the exporting goroutine once a batch of spans' worth
// of requests waits (two spans each), and lets as many wait as the span
// queue holds spans.
func newEndings(batch, queue int) *endings {
	return &endings{wake: make(chan struct{}, 1), at: max(1, batch/2), limit: max(1, queue)}
}

// add queues f, and reports false when the endings are closed or full:
// f is then for the caller to finish.
func (e *endings) add(f *finished) bool {
	e.mu.Lock()
	if e.closed || len(e.list) >= e.limit {
		e.mu.Unlock()
		return false
	}
	e.list = append(e.list, *f)
	n := len(e.list)
	e.mu.Unlock()
	if n == e.at {
		select {
		case e.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// end makes the spans and durations of every request queued so far, and
// of those an end under way took.
func (e *endings) end() {
	e.ending.Lock()
	defer e.ending.Unlock()
	e.mu.Lock()
	l := e.list
	e.list, e.spare = e.spare[:0], nil
	e.mu.Unlock()
	for i := range l {
		l[i].finish()
	}
	clear(l)        // no request's strings kept alive
	e.spare = l[:0] // only an end, under ending, swaps it
}

// close makes later adds fail: what ends after is finished at once.
func (e *endings) close() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
}

// Finish ends a proxy's two spans of a request, decided as p (Decide):
// both made (Pair.Ops, with r and serverPeer), the CLIENT span ended with
// out, then the SERVER span, and both durations recorded. With spans
// exported in batches this happens on the exporting goroutine, before it
// sends them, and at ForceFlush and Shutdown; else at once.
func (t *Telemetry) Finish(p *Pair, r Request, serverPeer string, out Outcome) {
	if t == nil {
		return
	}
	f := finished{pair: *p, r: r, serverPeer: serverPeer, out: out}
	if t.batch == nil || !t.batch.ends.add(&f) {
		f.finish()
	}
}

func (f *finished) finish() {
	server, client := f.pair.Ops(f.r, f.serverPeer)
	ctx := context.Background()
	client.End(ctx, f.out)
	server.End(ctx, f.out)
}
