package monitor

import (
	"log/slog"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor/host"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// A Snapshot is everything the monitor knew at one sample. It is immutable
// once published: readers share it and must not modify it. Counts are
// cumulative since the monitor was created; rates are in Rates.
type Snapshot struct {
	Seq      uint64        // 1 for the first sample
	Time     time.Time     // when the sample was taken
	Started  time.Time     // when the first sample was taken
	Elapsed  time.Duration // since the previous sample; 0 on the first
	Interval time.Duration // the configured sampling interval
	// Live marks a snapshot taken by Live: counters up to that instant on
	// top of the latest sample, not kept in the history.
	Live bool

	// System is nil when Options.DisableSystem is set.
	System *host.Stats
	// Processes are the processes watched with WatchProcess, by name.
	Processes map[string]host.ProcessStats
	// Gauges are the application gauges registered with RegisterGauge.
	Gauges map[string]metric.Reading
	// CacheHits and CacheMisses count lookups reported by the cache.
	CacheHits, CacheMisses uint64
	// Queries are the store queries reported through ObserveQuery.
	Queries LatencySummary
	// Tools holds every tool called at least once, by name.
	Tools map[string]ToolSnapshot
	// Methods holds every MCP method requested at least once, by name.
	Methods map[string]LatencySummary
	// Calls and Errors total all tool calls, and CallTime their durations.
	Calls, Errors uint64
	CallTime      time.Duration
	// ToolLatency and ToolLatencyRecent are the percentiles of all tool
	// calls together, since start and over the recent window.
	ToolLatency, ToolLatencyRecent Percentiles
	Custom                         CustomSnapshot
	Rates                          Rates
	Overhead                       Overhead
	// DroppedNames counts tool and custom-metric names refused because
	// Options.MaxTools were already in use.
	DroppedNames uint64

	approxBytes int64
}

// Rates are figures over a window, computed from the difference between
// this snapshot and an earlier one: the previous sample (LastInterval) and
// the one about a minute ago (LastMinute; while monitoring is younger than
// a minute, the oldest sample, and MinuteSpan says how long it really is).
type Rates struct {
	IntervalSpan time.Duration
	MinuteSpan   time.Duration
	// Throughput is tool calls per second.
	Throughput Windowed
	// ErrorRate is failed tool calls as a percentage of all tool calls.
	ErrorRate Windowed
	// CacheHitRate is cache hits as a percentage of lookups.
	CacheHitRate Windowed
	// QueryAverage is the mean store query time in milliseconds.
	QueryAverage Windowed
	// QueryErrorRate is failed queries as a percentage of all queries.
	QueryErrorRate Windowed
	// Concurrency is the average number of tool calls in flight: the time
	// spent in calls over the span. At 1 or more the server was never idle.
	Concurrency Windowed
	// How much happened in the last minute, so that rate alerts can ignore
	// windows too quiet to judge.
	CallsInMinute, CacheLookupsInMinute, QueriesInMinute uint64
}

// Windowed is one figure over the last interval and over the last minute.
type Windowed struct {
	LastInterval metric.Reading `json:"last_interval"`
	LastMinute   metric.Reading `json:"last_minute"`
}

// Overhead is what monitoring itself costs.
type Overhead struct {
	// SampleCPU is the CPU time taken by this sample's collection, measured
	// on the sampler's own thread.
	SampleCPU metric.Reading // milliseconds
	// SampleWall is the wall time this sample took.
	SampleWall time.Duration
	// CPUPercent is the sampler's CPU time over the last interval as a share
	// of one core.
	CPUPercent metric.Reading
	// TotalCPU is the sampler's CPU time since start.
	TotalCPU time.Duration
	// HistorySamples is the number of retained snapshots and MemoryBytes
	// the bytes held by the monitor's own structures (live counters and
	// retained history), computed from their sizes; allocator overhead is
	// not included.
	HistorySamples int
	MemoryBytes    int64
}

// ToolSnapshot is one tool's figures at a sample.
type ToolSnapshot struct {
	LatencySummary
	LastUsed time.Time
	// CallsPerSecond, ErrorRate (percent) and CallsInMinute are over the
	// last minute.
	CallsPerSecond metric.Reading
	ErrorRate      metric.Reading
	CallsInMinute  uint64
	// Responses is what the tool's responses cost, in bytes and tokens.
	Responses ResponseSummary
}

// SuccessRate returns successful calls as a percentage of all calls.
func (t ToolSnapshot) SuccessRate() float64 {
	if t.Count == 0 {
		return 0
	}
	return 100 * float64(t.Count-t.Errors) / float64(t.Count)
}

// CacheHitRateSinceStart is cache hits as a percentage of all lookups
// since the monitor started.
func (s *Snapshot) CacheHitRateSinceStart() metric.Reading {
	return percent(s.CacheHits, s.CacheHits+s.CacheMisses, "no cache lookups")
}

// TimeFormat is how pbatunnel writes times for people and its JSON: RFC
// 3339 in UTC with milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// MemoryPercent is the memory figure of the overview: the container's when
// a limit is set, else the host's.
func (s *Snapshot) MemoryPercent() metric.Reading {
	if s.System == nil {
		return systemDisabled
	}
	return s.System.MemoryPercent
}

// CPUPercent is the host CPU figure of the overview.
func (s *Snapshot) CPUPercent() metric.Reading {
	if s.System == nil {
		return systemDisabled
	}
	return s.System.CPUPercent
}

// Gauge returns the named application gauge, unavailable when no code has
// registered it.
func (s *Snapshot) Gauge(name string) metric.Reading {
	if r, ok := s.Gauges[name]; ok {
		return r
	}
	switch name { // the overview's three, without formatting each time
	case GaugeMemoryEntries:
		return noSourceEntries
	case GaugeRelationships:
		return noSourceRelationships
	case GaugeActiveConnections:
		return noSourceConnections
	}
	return metric.Unavailable("no source registered for %s", name)
}

var (
	systemDisabled        = metric.NoData("system collection is disabled")
	noSourceEntries       = metric.Unavailable("no source registered for %s", GaugeMemoryEntries)
	noSourceRelationships = metric.Unavailable("no source registered for %s", GaugeRelationships)
	noSourceConnections   = metric.Unavailable("no source registered for %s", GaugeActiveConnections)
)

// LogAttrs are the attributes of the one log line per sample: the overview
// figures, with unavailable ones shown as their reason.
func (s *Snapshot) LogAttrs() []slog.Attr {
	r := func(key string, v metric.Reading) slog.Attr {
		if v.OK {
			return slog.Float64(key, round2(v.Value))
		}
		return slog.String(key, "n/a: "+v.Reason)
	}
	return []slog.Attr{
		slog.Uint64("seq", s.Seq),
		r("cpu_percent", s.CPUPercent()),
		r("memory_percent", s.MemoryPercent()),
		r("throughput_ops", s.Rates.Throughput.LastMinute),
		r("error_rate_percent", s.Rates.ErrorRate.LastMinute),
		r("cache_hit_rate_percent", s.Rates.CacheHitRate.LastMinute),
		r("query_avg_ms", s.Rates.QueryAverage.LastMinute),
		slog.Int("tools", len(s.Tools)),
		slog.Uint64("calls", s.Calls),
		r("monitor_cpu_ms", s.Overhead.SampleCPU),
	}
}
