package monitor

import (
	"context"
	"sync"
	"sync/atomic"
)

// A Fanout hands each value published to every subscriber with a
// non-blocking send: a subscriber that falls behind its buffer loses the
// oldest values, so a slow reader (a browser on a bad link) never stalls
// the publisher. The monitor fans out snapshots, alerts and calls with it;
// the dashboard its event stream. The zero value is ready; safe for
// concurrent use.
type Fanout[T any] struct {
	mu   sync.Mutex
	subs map[chan T]struct{}
	n    atomic.Int32 // len(subs), read without mu by publishers
}

// Subscribe returns a channel that receives every value published from now
// on until ctx ends, when it is closed. buf < 1 means 1.
func (f *Fanout[T]) Subscribe(ctx context.Context, buf int) <-chan T {
	ch := make(chan T, max(buf, 1))
	f.mu.Lock()
	if f.subs == nil {
		f.subs = make(map[chan T]struct{})
	}
	f.subs[ch] = struct{}{}
	f.n.Add(1)
	f.mu.Unlock()
	context.AfterFunc(ctx, func() {
		f.mu.Lock()
		delete(f.subs, ch)
		f.n.Add(-1)
		close(ch)
		f.mu.Unlock()
	})
	return ch
}

// Len is the number of subscribers, so that a publisher can skip building
// what nobody reads.
func (f *Fanout[T]) Len() int { return int(f.n.Load()) }

// Publish sends v to every subscriber, dropping a full one's oldest value
// first.
func (f *Fanout[T]) Publish(v T) {
	if f.n.Load() == 0 {
		return // the common case on hot paths: nobody listens
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		for {
			select {
			case ch <- v:
			default:
				// Full: drop the oldest and try again; we hold mu, so
				// nobody else sends, and at worst the reader drained it.
				select {
				case <-ch:
				default:
				}
				continue
			}
			break
		}
	}
}
