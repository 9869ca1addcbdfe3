package monitor

import (
	"math"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"
)

// latencyStats counts operations that take time and may fail: tool calls,
// store queries and custom timings. record is lock-free and allocation-free
// once an error type has been seen.
//
// Successes and failures of each error type are kept in separate
// since-start histograms at the exported bounds, so that exporters can
// label them (OpenTelemetry's error.type) with counts that only ever grow.
// The percentiles come from one log-linear histogram of all of them, kept
// by the recent window (which holds what left it too).
type latencyStats struct {
	latencyRead
	// The rest of the line: okExp begins a line, so that the count, the
	// sum and the first buckets, which every success writes, share one.
	_ [cacheLine - unsafe.Sizeof(latencyRead{})%cacheLine]byte
	// The count, the errors and the sum of durations are kept in okExp and
	// errs, which need them anyway (see counts), so recording pays no
	// atomic add for them.
	okExp  boundHist  // the successes at the exported bounds
	recent windowHist // every observation, for percentiles
}

// latencyRead is what every record reads and few write, on cache lines of
// its own (see linePad).
type latencyRead struct {
	minNs atomic.Int64 // math.MaxInt64 until the first observation
	maxNs atomic.Int64
	errs  registry[boundHist]       // the failures of each error type
	other atomic.Pointer[boundHist] // error types beyond maxErrorTypes
}

// maxErrorTypes bounds the error types kept per operation; further types
// are counted under OtherErrorType.
const maxErrorTypes = 32

// Error types shared by every recorder (the MCP server's middleware and
// the tunnel), after the OpenTelemetry MCP conventions' error.type; a
// JSON-RPC error is recorded as its code.
const (
	// ErrorTypeTool is a tools/call result with isError set.
	ErrorTypeTool = "tool_error"
	// ErrorTypeCancelled is a request whose context ended, or whose client
	// went away, before it was answered.
	ErrorTypeCancelled = "cancelled"
	// ErrorTypeDefault is the error type of failures recorded without one.
	ErrorTypeDefault = "error"
	// OtherErrorType collects error types beyond the bound.
	OtherErrorType = "_other"
)

func newLatencyStats() *latencyStats {
	l := &latencyStats{}
	l.init()
	return l
}

func (l *latencyStats) init() {
	l.minNs.Store(math.MaxInt64)
	l.errs.limit = maxErrorTypes
}

func (l *latencyStats) record(d time.Duration, ok bool) {
	if ok {
		l.recordType(d, "")
	} else {
		l.recordType(d, ErrorTypeDefault)
	}
}

// recordType records one operation; errType "" means it succeeded.
func (l *latencyStats) recordType(d time.Duration, errType string) {
	l.recordObs(observe(d), errType)
}

// An observation is a duration with its buckets found, so that an
// operation counted in several stats (a call's method and its tool) finds
// them once.
type observation struct {
	ns     uint64
	bucket int // log-linear, for the percentile histograms
	bound  int // at the export bounds
}

func observe(d time.Duration) observation {
	ns := uint64(max(d, 0)) // a clock step must not poison sums and buckets
	b := bucketOf(ns)
	return observation{ns: ns, bucket: b, bound: boundIndex(ns, b)}
}

// recordObs records one operation; errType "" means it succeeded.
func (l *latencyStats) recordObs(o observation, errType string) {
	ns := int64(o.ns)
	for {
		cur := l.minNs.Load()
		if ns >= cur || l.minNs.CompareAndSwap(cur, ns) {
			break
		}
	}
	for {
		cur := l.maxNs.Load()
		if ns <= cur || l.maxNs.CompareAndSwap(cur, ns) {
			break
		}
	}
	if errType == "" {
		l.okExp.add(o.bound, o.ns)
	} else {
		l.errType(errType).add(o.bound, o.ns)
	}
	l.recent.add(o.bucket)
}

func (l *latencyStats) errType(name string) *boundHist {
	if e := l.errs.get(name); e != nil {
		return e
	}
	if len(name) > maxToolName {
		name = name[:maxToolName]
	}
	if e := l.errs.getOrAdd(strings.Clone(name), func() *boundHist { return &boundHist{} }); e != nil {
		return e
	}
	if e := l.other.Load(); e != nil {
		return e
	}
	l.other.CompareAndSwap(nil, &boundHist{})
	return l.other.Load()
}

// counts returns how many operations were recorded and how many of them
// failed; one in flight may be counted or not. It allocates nothing.
func (l *latencyStats) counts() (count, errors uint64) {
	if p := l.errs.m.Load(); p != nil {
		for _, e := range *p {
			errors += e.count()
		}
	}
	if e := l.other.Load(); e != nil {
		errors += e.count()
	}
	return l.okExp.count() + errors, errors
}

// eachErrType calls fn for every error type seen, in name order.
func (l *latencyStats) eachErrType(fn func(name string, e *boundHist)) {
	l.errs.each(fn)
	if e := l.other.Load(); e != nil {
		fn(OtherErrorType, e)
	}
}

// LatencySummary describes a set of timed operations at one sample.
// Counts and sums are cumulative since start; percentiles come in two
// flavours, since start and over the recent window.
type LatencySummary struct {
	Count      uint64        `json:"count"`
	Errors     uint64        `json:"errors"`
	Sum        time.Duration `json:"-"`
	Min        time.Duration `json:"-"`
	Max        time.Duration `json:"-"`
	SinceStart Percentiles   `json:"since_start"`
	Recent     Percentiles   `json:"recent"`
	// ErrorTypes counts failures by type, when there were any.
	ErrorTypes map[string]uint64 `json:"error_types,omitempty"`
}

// Percentiles are nearest-rank percentiles of a set of durations, each within
// PercentileRelativeError of the exact value.
type Percentiles struct {
	Count uint64        `json:"count"`
	P50   time.Duration `json:"-"`
	P90   time.Duration `json:"-"`
	P95   time.Duration `json:"-"`
	P99   time.Duration `json:"-"`
	// Since is when the observations begin (the start of the recent window,
	// or the start of monitoring).
	Since time.Time `json:"since"`
}

// Average returns the mean over all operations, failed ones included, and
// false when there were none.
func (s LatencySummary) Average() (time.Duration, bool) {
	if s.Count == 0 {
		return 0, false
	}
	return s.Sum / time.Duration(s.Count), true
}

// histScratch is the room summarize reads histograms into, reused from
// one read to the next to spare 11 KiB of allocation each.
type histScratch struct {
	recent, all histCounts
}

// summarize reads the stats as of now, first moving the recent window
// forward.
func (l *latencyStats) summarize(now time.Time, window time.Duration, started time.Time, scratch *histScratch) LatencySummary {
	return l.summarizeInto(now, window, started, scratch, nil)
}

// latencyAgg merges several latency sets (all tools) into one.
type latencyAgg struct {
	total, recent histCounts
	min, max      time.Duration
	since         time.Time
	any           bool
}

func (a *latencyAgg) percentiles() (total, recent Percentiles) {
	if !a.any {
		return Percentiles{}, Percentiles{}
	}
	return a.total.percentiles(a.min, a.max), a.recent.percentiles(a.min, a.max)
}

// summarizeInto is summarize that also merges the counts into agg.
func (l *latencyStats) summarizeInto(now time.Time, window time.Duration, started time.Time, scratch *histScratch, agg *latencyAgg) LatencySummary {
	l.recent.rotate(now, window)
	s := LatencySummary{Sum: time.Duration(l.okExp.sum())}
	s.Count, s.Errors = l.counts()
	if s.Count == 0 {
		return s
	}
	s.Min = time.Duration(l.minNs.Load())
	s.Max = time.Duration(l.maxNs.Load())
	if s.Errors > 0 {
		s.ErrorTypes = map[string]uint64{}
	}
	l.eachErrType(func(name string, e *boundHist) {
		s.ErrorTypes[name] = e.count()
		s.Sum += time.Duration(e.sum())
	})
	since := l.recent.read(&scratch.recent, &scratch.all)
	s.SinceStart = scratch.all.percentiles(s.Min, s.Max)
	s.SinceStart.Since = started
	s.Recent = scratch.recent.percentiles(s.Min, s.Max)
	s.Recent.Since = since
	if agg != nil {
		agg.total.merge(&scratch.all)
		agg.recent.merge(&scratch.recent)
		if !agg.any || s.Min < agg.min {
			agg.min = s.Min
		}
		if !agg.any || s.Max > agg.max {
			agg.max = s.Max
		}
		if !agg.any || since.Before(agg.since) {
			agg.since = since
		}
		agg.any = true
	}
	return s
}

func (h *histCounts) merge(o *histCounts) {
	if o.n == 0 {
		return
	}
	for i, c := range o.c {
		h.c[i] += c
	}
	h.n += o.n
}

func (h *histCounts) percentiles(lo, hi time.Duration) Percentiles {
	p := Percentiles{Count: h.n}
	p.P50, _ = h.percentile(0.50, lo, hi)
	p.P90, _ = h.percentile(0.90, lo, hi)
	p.P95, _ = h.percentile(0.95, lo, hi)
	p.P99, _ = h.percentile(0.99, lo, hi)
	return p
}
