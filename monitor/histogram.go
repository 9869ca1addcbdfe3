package monitor

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// The latency histogram is log-linear: every power of two is split into
// histSub equal buckets, so a bucket is at most 1/histSub of its lower bound
// wide. Reporting a bucket's midpoint therefore errs by at most
// 1/(2·histSub) = 3.125 % of the true value (values under 32 ns are exact).
// This is the bound the percentile tests check.
const (
	histSubBits = 4
	histSub     = 1 << histSubBits
	// histMaxBits caps recorded durations at 2^46 ns (about 19.5 h); longer
	// ones land in the last bucket and are still exact in min/max/sum.
	histMaxBits = 46
	histBuckets = (histMaxBits-histSubBits+1)*histSub + histSub
	// PercentileRelativeError is the largest relative error of a reported
	// percentile against the exact nearest-rank percentile of the same data.
	PercentileRelativeError = 1.0 / (2 * histSub)
)

// histogram counts durations in log-linear buckets, for percentiles.
// Adding is lock-free and allocation-free; reads are not atomic across
// buckets, which costs a percentile at most the few observations racing
// with the read. Exporters, whose count, sum and buckets must agree, read
// a boundHist instead.
type histogram struct {
	counts [histBuckets]atomic.Uint64
}

func bucketOf(ns uint64) int {
	if ns < 2*histSub {
		return int(ns)
	}
	n := bits.Len64(ns)
	if n > histMaxBits {
		return histBuckets - 1
	}
	shift := n - 1 - histSubBits
	mant := (ns >> uint(shift)) & (histSub - 1)
	return (shift+1)*histSub + int(mant)
}

// bucketBounds returns the [lo, hi) range of bucket i in nanoseconds.
func bucketBounds(i int) (lo, hi float64) {
	if i < 2*histSub {
		return float64(i), float64(i + 1)
	}
	shift := i/histSub - 1
	mant := i % histSub
	lo = float64(uint64(histSub+mant) << uint(shift))
	return lo, lo + float64(uint64(1)<<uint(shift))
}

// add counts one observation in bucket b, from bucketOf.
func (h *histogram) add(b int) { h.counts[b].Add(1) }

// moveTo adds this histogram's counts to dst and takes them out of it. A
// writer racing with it lands either in dst or in what stays behind:
// nothing is lost or counted twice.
func (h *histogram) moveTo(dst *histCounts) {
	for i := range h.counts {
		if h.counts[i].Load() == 0 {
			continue // most buckets: spare the write
		}
		c := h.counts[i].Swap(0)
		dst.c[i] += c
		dst.n += c
	}
}

// addTo adds this histogram's counts to dst.
func (h *histogram) addTo(dst *histCounts) {
	for i := range h.counts {
		if c := h.counts[i].Load(); c != 0 {
			dst.c[i] += c
			dst.n += c
		}
	}
}

// histCounts is a plain copy of a histogram, merged from one or more
// histograms, on which percentiles are computed.
type histCounts struct {
	c [histBuckets]uint64
	n uint64
}

// percentile returns the nearest-rank q-quantile (0 < q ≤ 1) as a duration,
// the midpoint of its bucket clamped to [lo, hi], the exact extremes seen.
// ok is false when there are no observations.
func (h *histCounts) percentile(q float64, lo, hi time.Duration) (time.Duration, bool) {
	if h.n == 0 {
		return 0, false
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.c {
		seen += c
		if seen >= rank {
			blo, bhi := bucketBounds(i)
			v := time.Duration(math.Round(blo + (bhi-blo-1)/2))
			if i < 2*histSub {
				v = time.Duration(blo) // exact buckets
			}
			return min(max(v, lo), hi), true
		}
	}
	return hi, true
}

// Durations counts durations for percentiles, in the buckets of the
// monitor's own latency figures (within PercentileRelativeError of the
// exact nearest-rank value), with the exact minimum and maximum. It is
// for readers that aggregate calls after the fact, such as per session:
// one writer at a time, not safe for concurrent use. The zero value is
// empty and ready; it takes about 5.6 KiB.
type Durations struct {
	h        histCounts
	min, max time.Duration
}

// Add counts d.
func (s *Durations) Add(d time.Duration) {
	d = max(d, 0)
	if s.h.n == 0 || d < s.min {
		s.min = d
	}
	s.max = max(s.max, d)
	s.h.c[bucketOf(uint64(d))]++
	s.h.n++
}

// Merge adds every duration o counted.
func (s *Durations) Merge(o *Durations) {
	if o.h.n == 0 {
		return
	}
	if s.h.n == 0 || o.min < s.min {
		s.min = o.min
	}
	s.max = max(s.max, o.max)
	s.h.merge(&o.h)
}

// Count is how many durations were added.
func (s *Durations) Count() uint64 { return s.h.n }

// Percentile returns the nearest-rank q-quantile (0 < q ≤ 1), exact for
// q = 1 (the maximum); ok is false when nothing was added.
func (s *Durations) Percentile(q float64) (d time.Duration, ok bool) {
	if q >= 1 && s.h.n > 0 {
		return s.max, true
	}
	return s.h.percentile(q, s.min, s.max)
}
