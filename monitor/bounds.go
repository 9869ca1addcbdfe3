package monitor

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// durationBounds are the upper bounds at which exporters get exact
// cumulative counts: the OpenTelemetry MCP semantic conventions' boundaries
// for mcp.server.operation.duration (10 ms to 300 s) and finer ones below
// 10 ms, where most tool calls fall, so that a quantile there can be
// resolved. Consecutive bounds are at least twice apart, which boundIndex
// relies on.
var durationBounds = [...]time.Duration{
	500 * time.Microsecond, time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second,
	30 * time.Second, 60 * time.Second, 120 * time.Second, 300 * time.Second,
}

// boundBuckets is the number of export buckets: one per bound and one for
// what lies above the last.
const boundBuckets = len(durationBounds) + 1

// DurationBounds returns the upper bounds of HistogramExport.Buckets, in
// increasing order. A fresh slice on every call, so callers may keep it.
func DurationBounds() []time.Duration { return slices.Clone(durationBounds[:]) }

// boundOfBucket maps each log-linear bucket to the first bound at or above
// its lower end. A bucket is at most 1/16 of its lower end wide and bounds
// are at least twice apart, so at most one bound falls inside a bucket and
// one comparison finishes the lookup.
var boundOfBucket = func() (t [histBuckets]uint8) {
	for b := range t {
		lo, _ := bucketBounds(b)
		i := 0
		for i < len(durationBounds) && float64(durationBounds[i]) < lo {
			i++
		}
		t[b] = uint8(i)
	}
	return t
}()

// boundIndex returns the export bucket of ns, whose log-linear bucket is b:
// the first bound at or above ns (Prometheus' le), or len(durationBounds).
func boundIndex(ns uint64, b int) int {
	i := int(boundOfBucket[b])
	if i < len(durationBounds) && ns > uint64(durationBounds[i]) {
		i++
	}
	return i
}

// boundHist counts observations in export buckets exactly, with reads that
// see the count, the sum and every bucket of one moment: durations at
// durationBounds (boundIndex finds their bucket), and any other value whose
// bucket the caller finds, such as response tokens at TokenBounds.
//
// Writers share two shards: the hot one, which takes observations, and the
// cold one, empty between reads. countAndHot holds in its top bit which is
// hot and in the rest how many observations have begun; one atomic add
// both claims a shard and counts the observation, so a reader that flips
// the bit learns exactly how many observations the old hot shard will hold.
// A writer adds to its shard's sum first and to a bucket last, so the
// reader knows they have all finished when the shard's buckets add up to
// that number. It then reads the shard, which no writer touches any more,
// and moves its contents to the new hot shard. Writers never wait and take
// no lock; a reader waits only for writers already inside add.
type boundHist struct {
	countAndHot atomic.Uint64
	shards      [2]boundShard
	readMu      sync.Mutex // one reader at a time
}

type boundShard struct {
	sum    atomic.Uint64
	counts [boundBuckets]atomic.Uint64
}

const hotBit = 1 << 63

// add records the value v in export bucket i (< boundBuckets).
func (h *boundHist) add(i int, v uint64) {
	s := &h.shards[h.countAndHot.Add(1)>>63]
	s.sum.Add(v)
	s.counts[i].Add(1) // last: this completes the observation for readers
}

// count returns the observations begun so far, those in flight included.
func (h *boundHist) count() uint64 { return h.countAndHot.Load() &^ hotBit }

// sum returns the sum of the observations recorded so far (one in flight
// may or may not be in it). Between reads the cold shard is empty, so the
// two shards' sums add up to the total.
func (h *boundHist) sum() uint64 {
	h.readMu.Lock()
	defer h.readMu.Unlock()
	return h.shards[0].sum.Load() + h.shards[1].sum.Load()
}

// read returns the count and sum of every observation completed and fills
// counts with how many fell in each export bucket (not cumulative), all of
// one moment. Safe for concurrent use with add and other reads.
func (h *boundHist) read(counts *[boundBuckets]uint64) (n, sum uint64) {
	h.readMu.Lock()
	defer h.readMu.Unlock()
	flipped := h.countAndHot.Add(hotBit)
	n = flipped &^ hotBit
	hot, cold := &h.shards[flipped>>63], &h.shards[(flipped>>63)^1]
	for {
		var done uint64
		for i := range cold.counts {
			done += cold.counts[i].Load()
		}
		if done == n {
			break
		}
		// A writer between its add to countAndHot and its bucket add,
		// perhaps descheduled: let it finish.
		runtime.Gosched()
	}
	sum = cold.sum.Load()
	hot.sum.Add(sum)
	cold.sum.Store(0)
	for i := range cold.counts {
		c := cold.counts[i].Load()
		counts[i] = c
		hot.counts[i].Add(c)
		cold.counts[i].Store(0)
	}
	return n, sum
}
