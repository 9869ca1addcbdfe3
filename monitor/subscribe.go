package monitor

import (
	"context"
	"sync"
	"sync/atomic"
)

// subscribers fans each snapshot (or alert) out to readers with non-blocking sends, so
// a slow reader (a browser on a bad link) never stalls the sampler.
type subscribers[T any] struct {
	mu   sync.Mutex
	subs map[chan T]struct{}
	n    atomic.Int32 // len(subs), read without mu by publishers
}

// Subscribe returns a channel that receives every new snapshot until ctx
// ends, when it is closed. A reader that falls more than buf snapshots
// behind loses the oldest ones; buf < 1 means 1.
func (m *Monitor) Subscribe(ctx context.Context, buf int) <-chan *Snapshot {
	return m.subs.subscribe(ctx, buf)
}

// SubscribeAlerts returns a channel that receives every alert notification
// until ctx ends, when it is closed; like Subscribe, a reader more than buf
// behind loses the oldest.
func (m *Monitor) SubscribeAlerts(ctx context.Context, buf int) <-chan Alert {
	return m.alertSubs.subscribe(ctx, buf)
}

func (s *subscribers[T]) subscribe(ctx context.Context, buf int) <-chan T {
	ch := make(chan T, max(buf, 1))
	s.mu.Lock()
	if s.subs == nil {
		s.subs = make(map[chan T]struct{})
	}
	s.subs[ch] = struct{}{}
	s.n.Add(1)
	s.mu.Unlock()
	context.AfterFunc(ctx, func() {
		s.mu.Lock()
		delete(s.subs, ch)
		s.n.Add(-1)
		close(ch)
		s.mu.Unlock()
	})
	return ch
}

func (s *subscribers[T]) publish(snap T) {
	if s.n.Load() == 0 {
		return // the common case on hot paths: nobody listens
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.subs {
		for {
			select {
			case ch <- snap:
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
