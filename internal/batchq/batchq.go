// Package batchq is a bounded queue between the goroutines that put items
// on a hot path (a request being relayed or served) and the one goroutine
// that takes them in batches (an exporter, a writer, a counter).
//
// It is a slice under a lock rather than a channel on purpose: an item
// sent on a channel to a goroutine waiting on it wakes that goroutine, and
// Go runs a goroutine woken so before the others ready on that core, so
// its work lands in the middle of the request's, at every item. Here the
// taker wakes on its own clock, or when the queue has filled to a mark
// (Kick), and takes everything queued at once.
package batchq

import "sync"

// A Queue holds items until they are taken. Safe for concurrent use; the
// zero value is not usable (New).
type Queue[T any] struct {
	maxItems, maxBytes   int
	wakeItems, wakeBytes int

	mu     sync.Mutex
	items  []T
	bytes  int
	closed bool
	kick   chan struct{}
}

// New returns a queue of at most maxItems items and maxBytes bytes (0: no
// bound in bytes) whose taker is kicked once wakeItems items, or
// wakeBytes bytes (0: never), are queued.
func New[T any](maxItems, maxBytes, wakeItems, wakeBytes int) *Queue[T] {
	return &Queue[T]{maxItems: maxItems, maxBytes: maxBytes, wakeItems: max(wakeItems, 1), wakeBytes: wakeBytes,
		kick: make(chan struct{}, 1)}
}

// Put queues v, of size bytes; false, and v not queued, when the queue is
// full or closed. It never blocks.
func (q *Queue[T]) Put(v T, size int) bool {
	q.mu.Lock()
	if q.closed || len(q.items) >= q.maxItems || (q.maxBytes > 0 && q.bytes+size > q.maxBytes) {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, v)
	q.bytes += size
	wake := len(q.items) == q.wakeItems || (q.wakeBytes > 0 && q.bytes >= q.wakeBytes && q.bytes-size < q.wakeBytes)
	q.mu.Unlock()
	if wake {
		select {
		case q.kick <- struct{}{}:
		default: // already kicked
		}
	}
	return true
}

// Full reports whether the next item would find the queue full (by count).
func (q *Queue[T]) Full() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed || len(q.items) >= q.maxItems
}

// Take returns every item queued, leaving reuse, emptied, as the queue's
// slice: a taker that hands back the slice it took last time allocates
// nothing once warm. The caller owns what it takes.
func (q *Queue[T]) Take(reuse []T) []T {
	clear(reuse)
	q.mu.Lock()
	defer q.mu.Unlock()
	taken := q.items
	q.items, q.bytes = reuse[:0], 0
	return taken
}

// Kick receives when the queue has filled to its mark since the taker
// last woke.
func (q *Queue[T]) Kick() <-chan struct{} { return q.kick }

// Close makes every later Put fail; what is queued can still be taken.
func (q *Queue[T]) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
}
