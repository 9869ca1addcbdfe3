package monitor

import (
	"sync"
	"sync/atomic"
	"time"
)

// windowSlots is how many slots a recent window is cut into. The window
// reported spans between (windowSlots-1) and windowSlots slot lengths, so
// more slots make it steadier at the cost of memory per tool.
const windowSlots = 6

// windowHist keeps the observations of roughly the last window in rotating
// slot histograms, and those older in past, so that it holds every
// observation since start: the since-start percentiles need no histogram
// of their own, and recording pays one atomic add for both. Writers add to
// the current slot through one atomic index load; rotation (by the
// sampler, or by a reader) is the only writer of the index, under mu, and
// empties a slot into past before making it current.
type windowHist struct {
	slots [windowSlots]histogram
	cur   atomic.Int32

	mu        sync.Mutex
	slotLen   time.Duration
	slotStart time.Time  // when the current slot began; zero until first rotate
	oldest    time.Time  // start of the oldest slot still holding data
	past      histCounts // what rotation moved out of the slots
}

// add counts one observation in bucket b, from bucketOf.
func (w *windowHist) add(b int) {
	w.slots[w.cur.Load()].add(b)
}

// rotate advances the window to now. It is cheap when no slot has ended.
func (w *windowHist) rotate(now time.Time, window time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.slotStart.IsZero() {
		w.slotLen = window / (windowSlots - 1)
		w.slotStart, w.oldest = now, now
		return
	}
	elapsed := now.Sub(w.slotStart)
	if elapsed < w.slotLen {
		return
	}
	steps := int(elapsed / w.slotLen)
	if steps >= windowSlots {
		// Everything recorded is older than the window.
		for i := range w.slots {
			w.slots[i].moveTo(&w.past)
		}
		w.slotStart, w.oldest = now, now
		return
	}
	for range steps {
		next := (w.cur.Load() + 1) % windowSlots
		w.slots[next].moveTo(&w.past)
		w.cur.Store(next)
		w.slotStart = w.slotStart.Add(w.slotLen)
	}
	if first := w.slotStart.Add(-time.Duration(windowSlots-1) * w.slotLen); first.After(w.oldest) {
		w.oldest = first
	}
}

// read sets recent to the slots' counts, all to everything observed since
// start, and returns when recent's observations begin. An observation
// racing with the read may be in both or in neither, never in all alone.
func (w *windowHist) read(recent, all *histCounts) time.Time {
	w.mu.Lock() // no rotation between the slots and past
	defer w.mu.Unlock()
	*recent = histCounts{}
	for i := range w.slots {
		w.slots[i].addTo(recent)
	}
	*all = w.past
	all.merge(recent)
	return w.oldest
}
