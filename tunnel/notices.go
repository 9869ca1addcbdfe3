package tunnel

import (
	"sync"
	"time"
)

// cancelNotices are the client's cancellations over HTTP, by session and
// request id, waiting for the request they name to be recorded. Over HTTP
// a request lives with its POST, read by that POST's goroutine alone; the
// notifications/cancelled comes in another POST. So the cancellation is
// noted here, and the request's own exchange records it as cancelled, as
// of the notice, when its answer comes or its response ends. Safe for
// concurrent use; bounded like the stdio tunnel's cancelled requests.
type cancelNotices struct {
	mu    sync.Mutex
	at    map[string]time.Time
	order []string // FIFO of keys, at most keepCancelled
}

// put notes that the request keyed by key was cancelled at t.
func (n *cancelNotices) put(key []byte, t time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.at == nil {
		n.at = map[string]time.Time{}
	}
	k := string(key)
	if _, ok := n.at[k]; !ok {
		n.order = append(n.order, k)
	}
	n.at[k] = t
	if len(n.order) > keepCancelled {
		delete(n.at, n.order[0])
		n.order = n.order[1:]
	}
}

// take removes and returns the cancellation of the request keyed by key.
func (n *cancelNotices) take(key []byte) (time.Time, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	t, ok := n.at[string(key)]
	if ok {
		delete(n.at, string(key)) // its place in order goes when it comes round
	}
	return t, ok
}
