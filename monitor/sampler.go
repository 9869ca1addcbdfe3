package monitor

import (
	"context"
	"runtime"
	"time"
	"unsafe"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor/host"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// sampler turns the live counters into Snapshots. It is owned by
// Monitor.sampleMu: one sample at a time.
type sampler struct {
	m        *Monitor
	sys      HostCollector // nil when Options.DisableSystem is set
	scratch  histScratch
	agg      latencyAgg
	seq      uint64
	cpuTotal time.Duration
	cpuOK    bool
}

func newSampler(m *Monitor) *sampler {
	s := &sampler{m: m, cpuOK: true}
	if !m.opts.DisableSystem {
		s.sys = m.opts.Host
		if s.sys == nil {
			s.sys = host.New(host.Options{})
		}
	}
	return s
}

// Sample takes a sample now, stores and publishes it, and returns it. Start
// calls it on every tick; call it directly to sample on demand (tests, or a
// monitor driven by its owner's own loop). Safe for concurrent use: samples
// are taken one at a time.
func (m *Monitor) Sample(ctx context.Context) *Snapshot {
	m.sampleMu.Lock()
	defer m.sampleMu.Unlock()
	snap := m.sampler.sample(ctx, false)
	m.history.add(snap)
	m.latest.Store(snap)
	for _, judge := range m.sampleJudges() {
		judge(ctx, snap)
	}
	m.subs.Publish(snap)
	return snap
}

// OnSample has judge called with every sample Sample takes, in the
// sampler's goroutine, after the sample is stored and before it is
// published: a subscriber that receives a sample finds the state the judge
// made of it (the alert engine is one). A judge must be quick; it delays
// the next sample, never a recording.
func (m *Monitor) OnSample(judge func(ctx context.Context, s *Snapshot)) {
	m.judgesMu.Lock()
	defer m.judgesMu.Unlock()
	m.judges = append(m.judges, judge)
}

func (m *Monitor) sampleJudges() []func(context.Context, *Snapshot) {
	m.judgesMu.Lock()
	defer m.judgesMu.Unlock()
	return m.judges
}

// Now is the monitor's clock: Options.Now, or time.Now.
func (m *Monitor) Now() time.Time { return m.opts.Now() }

// Live returns a snapshot of the counters as they are now, on top of the
// latest sample's host figures: tool calls, methods, queries, cache and
// gauges up to this instant. It is not kept, published or judged by the
// alert rules, and it leaves the sampler's state alone, so asking often
// costs the history nothing. Before the first sample it returns nil.
func (m *Monitor) Live(ctx context.Context) *Snapshot {
	m.sampleMu.Lock()
	defer m.sampleMu.Unlock()
	if m.latest.Load() == nil {
		return nil
	}
	return m.sampler.sample(ctx, true)
}

// sample builds a snapshot. A live one (see Live) reuses the latest
// sample's sequence number, host and process figures and cost.
func (s *sampler) sample(ctx context.Context, live bool) *Snapshot {
	// Pin to one thread so its CPU clock measures exactly this work.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0, cpuErr := threadCPU()
	wall0 := time.Now()

	m := s.m
	now := m.opts.Now()
	prev := m.latest.Load()
	if !live {
		s.seq++
	}
	snap := &Snapshot{
		Seq:      s.seq,
		Time:     now,
		Started:  now,
		Interval: m.Interval(),
		Live:     live,
	}
	if prev != nil {
		snap.Started = prev.Started
		snap.Elapsed = now.Sub(prev.Time)
	}
	switch {
	case live:
		snap.System, snap.Processes = prev.System, prev.Processes
	case s.sys != nil:
		sys := s.sys.Collect(ctx, now)
		snap.System = &sys
	}
	if !live {
		snap.Processes = m.watched.collect(ctx, now)
	}
	snap.Gauges = m.readGauges()
	snap.CacheHits, snap.CacheMisses = m.cacheHits.Load(), m.cacheMisses.Load()
	window := m.opts.RecentWindow
	snap.Queries = m.queries.summarize(now, window, m.started, &s.scratch)
	snap.Tools = make(map[string]ToolSnapshot, m.tools.len()+1)
	readTool := func(name string, t *toolStats) {
		if n, _ := t.counts(); n == 0 {
			return
		}
		ts := ToolSnapshot{LatencySummary: t.summarizeInto(now, window, m.started, &s.scratch, &s.agg)}
		ts.Responses = t.responses.summarize(&s.scratch.all)
		if lu := t.lastUsed.Load(); lu != 0 {
			ts.LastUsed = time.Unix(0, lu)
		}
		snap.Tools[name] = ts
		snap.Calls += ts.Count
		snap.Errors += ts.Errors
		snap.CallTime += ts.Sum
	}
	s.agg = latencyAgg{}
	m.tools.each(readTool)
	readTool(OtherTool, m.otherTool.Load())
	snap.ToolLatency, snap.ToolLatencyRecent = s.agg.percentiles()
	snap.ToolLatency.Since, snap.ToolLatencyRecent.Since = m.started, s.agg.since
	snap.Custom = m.readCustom(now, &s.scratch)
	snap.Methods = make(map[string]LatencySummary, m.methods.len())
	m.methods.each(func(name string, l *latencyStats) {
		if n, _ := l.counts(); n > 0 {
			snap.Methods[name] = l.summarize(now, window, m.started, &s.scratch)
		}
	})
	snap.DroppedNames = m.droppedToolNames.Load() + m.droppedCustomNames.Load()

	s.rates(snap, prev)
	if live {
		snap.Overhead = prev.Overhead
		snap.approxBytes = prev.approxBytes
		return snap
	}

	// The cost of this sample, measured before the bookkeeping below, which
	// is cheap arithmetic.
	wall := time.Since(wall0)
	o := &snap.Overhead
	o.SampleWall = wall
	if cpu1, err := threadCPU(); cpuErr == nil && err == nil {
		d := cpu1 - cpu0
		s.cpuTotal += d
		o.SampleCPU = metric.Measured(ms(d))
		o.TotalCPU = s.cpuTotal
		if prev != nil && snap.Elapsed > 0 && prev.Overhead.SampleCPU.OK {
			o.CPUPercent = metric.Measured(100 * float64(d) / float64(snap.Elapsed))
		} else {
			o.CPUPercent = metric.NoData("needs two samples")
		}
	} else {
		if cpuErr == nil {
			cpuErr = err
		}
		o.SampleCPU = metric.Unavailable("%v", cpuErr)
		o.CPUPercent = o.SampleCPU
	}
	snap.approxBytes = snap.sizeBytes()
	n, histBytes := m.history.stats()
	o.HistorySamples = n + 1 // this one is about to be added
	o.MemoryBytes = histBytes + snap.approxBytes + m.liveBytes()
	return snap
}

// rates fills the windowed figures from the previous snapshot and the one
// about a minute old.
func (s *sampler) rates(snap, prev *Snapshot) {
	if prev == nil {
		none := metric.NoData("first sample: rates need two")
		w := Windowed{none, none}
		snap.Rates = Rates{Throughput: w, ErrorRate: w, CacheHitRate: w, QueryAverage: w, QueryErrorRate: w, Concurrency: w}
		for name, t := range snap.Tools {
			t.CallsPerSecond, t.ErrorRate = none, none
			snap.Tools[name] = t
		}
		return
	}
	base := s.m.history.atOrBefore(snap.Time.Add(-time.Minute))
	r := &snap.Rates
	r.IntervalSpan = snap.Time.Sub(prev.Time)
	r.MinuteSpan = snap.Time.Sub(base.Time)
	both := func(f func(old *Snapshot, span time.Duration) metric.Reading) Windowed {
		return Windowed{LastInterval: f(prev, r.IntervalSpan), LastMinute: f(base, r.MinuteSpan)}
	}
	r.Concurrency = both(func(old *Snapshot, span time.Duration) metric.Reading {
		if span <= 0 {
			return metric.NoData("no time between samples")
		}
		return metric.Measured(float64(snap.CallTime-old.CallTime) / float64(span))
	})
	r.CallsInMinute = snap.Calls - base.Calls
	r.CacheLookupsInMinute = snap.CacheHits + snap.CacheMisses - base.CacheHits - base.CacheMisses
	r.QueriesInMinute = snap.Queries.Count - base.Queries.Count
	r.Throughput = both(func(old *Snapshot, span time.Duration) metric.Reading {
		return perSecond(snap.Calls-old.Calls, span)
	})
	r.ErrorRate = both(func(old *Snapshot, span time.Duration) metric.Reading {
		return percent(snap.Errors-old.Errors, snap.Calls-old.Calls, "no tool calls")
	})
	r.CacheHitRate = both(func(old *Snapshot, span time.Duration) metric.Reading {
		hits := snap.CacheHits - old.CacheHits
		return percent(hits, hits+snap.CacheMisses-old.CacheMisses, "no cache lookups")
	})
	r.QueryAverage = both(func(old *Snapshot, span time.Duration) metric.Reading {
		n := snap.Queries.Count - old.Queries.Count
		if n == 0 {
			return metric.NoData("no queries in the window")
		}
		return metric.Measured(ms(snap.Queries.Sum-old.Queries.Sum) / float64(n))
	})
	r.QueryErrorRate = both(func(old *Snapshot, span time.Duration) metric.Reading {
		return percent(snap.Queries.Errors-old.Queries.Errors, snap.Queries.Count-old.Queries.Count, "no queries")
	})
	for name, t := range snap.Tools {
		old := base.Tools[name] // zero when the tool is newer than base
		t.CallsInMinute = t.Count - old.Count
		t.CallsPerSecond = perSecond(t.Count-old.Count, r.MinuteSpan)
		t.ErrorRate = percent(t.Errors-old.Errors, t.Count-old.Count, "no calls")
		snap.Tools[name] = t
	}
}

func perSecond(n uint64, span time.Duration) metric.Reading {
	if span <= 0 {
		return metric.NoData("no time between samples")
	}
	return metric.Measured(float64(n) / span.Seconds())
}

func percent(part, whole uint64, none string) metric.Reading {
	if whole == 0 {
		return metric.NoData("%s in the window", none)
	}
	return metric.Measured(100 * float64(part) / float64(whole))
}

// sizeBytes is the memory a retained snapshot holds, from the sizes of its
// parts: exact for the fixed parts, an estimate for map overhead.
func (s *Snapshot) sizeBytes() int64 {
	const mapEntry = 16 // key header + bucket overhead per entry, roughly
	n := int64(unsafe.Sizeof(*s))
	if s.System != nil {
		n += int64(unsafe.Sizeof(*s.System))
	}
	readingBytes := int64(unsafe.Sizeof(metric.Reading{}))
	for k, g := range s.Gauges {
		n += int64(len(k)+len(g.Reason)) + readingBytes + mapEntry
	}
	for k := range s.Tools {
		n += int64(len(k)) + int64(unsafe.Sizeof(ToolSnapshot{})) + mapEntry
	}
	for k := range s.Custom.Counters {
		n += int64(len(k)) + 8 + mapEntry
	}
	for k := range s.Custom.Gauges {
		n += int64(len(k)) + 8 + mapEntry
	}
	for k := range s.Custom.Timers {
		n += int64(len(k)) + int64(unsafe.Sizeof(LatencySummary{})) + mapEntry
	}
	for k := range s.Methods {
		n += int64(len(k)) + int64(unsafe.Sizeof(LatencySummary{})) + mapEntry
	}
	return n
}

// liveBytes is the memory of the recording side: one latency structure per
// tool, query set and timer, the custom values and the ring of calls.
func (m *Monitor) liveBytes() int64 {
	lat := int64(unsafe.Sizeof(toolStats{}))
	n := int64(unsafe.Sizeof(*m))
	n += lat * int64(m.tools.len()+2+m.timers.len()+m.methods.len())
	n += int64(unsafe.Sizeof(Counter{})) * int64(m.counters.len())
	n += int64(unsafe.Sizeof(Gauge{})) * int64(m.values.len())
	n += int64(unsafe.Sizeof(sampler{}))
	// The ring of recent calls: its slots, not the strings they share with
	// the recorders.
	n += int64(unsafe.Sizeof(callSlot{})) * int64(len(m.calls.slots))
	return n
}
