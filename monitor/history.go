package monitor

import (
	"sort"
	"sync"
	"time"
)

// history is the ring of retained snapshots, bounded by count and by age.
// The sampler is its only writer; readers copy out pointers under a read
// lock held for a slice copy, never for any computation.
type history struct {
	mu     sync.RWMutex
	buf    []*Snapshot // grows up to max, then wraps
	head   int         // index of the oldest when full
	n      int
	max    int
	maxAge time.Duration
	bytes  int64 // approximate bytes held, the sum of each snapshot's size
}

func (h *history) init(max int, maxAge time.Duration) {
	h.max, h.maxAge = max, maxAge
}

// add appends s, evicting the oldest beyond the count bound and any older
// than maxAge.
func (h *history) add(s *Snapshot) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n < h.max && len(h.buf) < h.max {
		h.buf = append(h.buf, s)
		h.n++
	} else {
		// Full: overwrite the oldest.
		old := h.buf[h.head]
		h.bytes -= old.approxBytes
		h.buf[h.head] = s
		h.head = (h.head + 1) % h.max
	}
	h.bytes += s.approxBytes
	cutoff := s.Time.Add(-h.maxAge)
	for h.n > 1 && h.at(0).Time.Before(cutoff) {
		h.bytes -= h.at(0).approxBytes
		h.dropOldest()
	}
}

// at returns the i-th oldest retained snapshot; callers hold mu.
func (h *history) at(i int) *Snapshot {
	return h.buf[(h.head+i)%len(h.buf)]
}

// dropOldest forgets the oldest snapshot by compacting the ring into a new
// slice; it only runs when the age bound bites, at most once per sample.
func (h *history) dropOldest() {
	next := make([]*Snapshot, 0, h.max)
	for i := 1; i < h.n; i++ {
		next = append(next, h.at(i))
	}
	h.buf, h.head, h.n = next, 0, len(next)
}

func (h *history) all() []*Snapshot {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]*Snapshot, h.n)
	for i := range out {
		out[i] = h.at(i)
	}
	return out
}

// since returns the snapshots taken at or after t.
func (h *history) since(t time.Time) []*Snapshot {
	h.mu.RLock()
	defer h.mu.RUnlock()
	i := sort.Search(h.n, func(i int) bool { return !h.at(i).Time.Before(t) })
	out := make([]*Snapshot, h.n-i)
	for j := range out {
		out[j] = h.at(i + j)
	}
	return out
}

// atOrBefore returns the newest snapshot taken at or before t, or the oldest
// retained when all are newer; nil when empty.
func (h *history) atOrBefore(t time.Time) *Snapshot {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.n == 0 {
		return nil
	}
	i := sort.Search(h.n, func(i int) bool { return h.at(i).Time.After(t) })
	if i == 0 {
		return h.at(0)
	}
	return h.at(i - 1)
}

func (h *history) stats() (n int, bytes int64) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.n, h.bytes
}
