package monitor

import (
	"strings"
	"sync"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor/host"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// Series names. Every numeric figure of a snapshot has a stable name: trends
// are computed per name, the history API serves them by name, and alert
// rules refer to them by name. Per-tool series are "tool.<name>.<figure>",
// custom metrics "custom.<name>" (timers "custom.<name>.<figure>").
const (
	SeriesMemoryUsage  = "memory_usage_percent"
	SeriesCPUUsage     = "cpu_usage_percent"
	SeriesCacheHitRate = "cache_hit_rate_percent"
	SeriesQueryTime    = "average_query_time_ms"
	SeriesErrorRate    = "error_rate_percent"
	SeriesThroughput   = "throughput_operations_per_second"
	// SeriesProcessCPU is this process's CPU time over wall time, as a
	// share of one core (so it can pass 100 on several cores).
	SeriesProcessCPU     = "process_cpu_percent"
	SeriesMonitorCPU     = "monitor_cpu_percent"
	SeriesMonitorMemory  = "monitor_memory_bytes"
	SeriesMonitorSampleT = "monitor_sample_cpu_ms"

	SeriesCallsInMinute        = "tool_calls_last_minute"
	SeriesCacheLookupsInMinute = "cache_lookups_last_minute"
	SeriesQueriesInMinute      = "queries_last_minute"
	SeriesConcurrency          = "average_concurrency"

	// Percentiles of all tool calls together over the recent window.
	SeriesToolP50 = "tools.p50_ms"
	SeriesToolP95 = "tools.p95_ms"
	SeriesToolP99 = "tools.p99_ms"
)

// EachSeries calls fn for every named figure of the snapshot, measured or
// not. The order is stable: overview first, then system, performance,
// tools, custom metrics and the monitor's own cost.
func (s *Snapshot) EachSeries(fn func(name string, r metric.Reading)) {
	fn(SeriesMemoryUsage, s.MemoryPercent())
	fn(SeriesCPUUsage, s.CPUPercent())
	fn(SeriesCacheHitRate, s.Rates.CacheHitRate.LastMinute)
	fn(SeriesQueryTime, s.Rates.QueryAverage.LastMinute)
	fn(SeriesErrorRate, s.Rates.ErrorRate.LastMinute)
	fn(SeriesThroughput, s.Rates.Throughput.LastMinute)
	for _, g := range []string{GaugeMemoryEntries, GaugeRelationships, GaugeActiveConnections} {
		fn(g, s.Gauge(g))
	}
	for _, name := range sortedKeys(s.Gauges) {
		if name != GaugeMemoryEntries && name != GaugeRelationships && name != GaugeActiveConnections {
			fn(name, s.Gauges[name])
		}
	}

	if sys := s.System; sys != nil {
		fn("host_memory_percent", sys.HostMemoryPercent)
		fn("container_memory_percent", sys.ContainerMemoryPercent)
		fn("container_cpu_percent", sys.ContainerCPUPercent)
		fn("disk_read_bytes_per_sec", sys.DiskReadBytesPerSec)
		fn("disk_write_bytes_per_sec", sys.DiskWriteBytesPerSec)
		fn("disk_read_ops_per_sec", sys.DiskReadOpsPerSec)
		fn("disk_write_ops_per_sec", sys.DiskWriteOpsPerSec)
		fn("net_rx_bytes_per_sec", sys.NetRxBytesPerSec)
		fn("net_tx_bytes_per_sec", sys.NetTxBytesPerSec)
		fn(SeriesProcessCPU, sys.Process.CPUPercent)
		fn("process_rss_bytes", sys.Process.RSSBytes)
		fn("process_open_fds", sys.Process.OpenFDs)
		fn("process_threads", sys.Process.Threads)
		fn("goroutines", sys.Process.Goroutines)
	}

	for _, name := range sortedKeys(s.Processes) {
		p := s.Processes[name]
		n := processNames.get(name)
		fn(n.cpu, p.CPUPercent)
		fn(n.rss, p.RSSBytes)
		fn(n.fds, p.OpenFDs)
		fn(n.threads, p.Threads)
	}

	fn(SeriesCallsInMinute, metric.Measured(float64(s.Rates.CallsInMinute)))
	fn(SeriesCacheLookupsInMinute, metric.Measured(float64(s.Rates.CacheLookupsInMinute)))
	fn(SeriesQueriesInMinute, metric.Measured(float64(s.Rates.QueriesInMinute)))
	fn(SeriesConcurrency, s.Rates.Concurrency.LastMinute)
	fn("throughput_last_interval", s.Rates.Throughput.LastInterval)
	fn("error_rate_last_interval_percent", s.Rates.ErrorRate.LastInterval)
	fn("cache_hit_rate_last_interval_percent", s.Rates.CacheHitRate.LastInterval)
	fn("query_error_rate_percent", s.Rates.QueryErrorRate.LastMinute)
	latencySeries("query", s.Queries, fn)
	pct := func(d time.Duration) metric.Reading {
		if s.ToolLatencyRecent.Count == 0 {
			return noToolCallsRecent
		}
		return metric.Measured(ms(d))
	}
	fn(SeriesToolP50, pct(s.ToolLatencyRecent.P50))
	fn(SeriesToolP95, pct(s.ToolLatencyRecent.P95))
	fn(SeriesToolP99, pct(s.ToolLatencyRecent.P99))

	for _, name := range sortedKeys(s.Tools) {
		t := s.Tools[name]
		n := toolNames.get(name)
		fn(n.callCount, metric.Measured(float64(t.Count)))
		fn(n.errorCount, metric.Measured(float64(t.Errors)))
		fn(n.callsPerSecond, t.CallsPerSecond)
		fn(n.callsLastMinute, metric.Measured(float64(t.CallsInMinute)))
		fn(n.errorRate, t.ErrorRate)
		latencySeriesNamed(n, t.LatencySummary, fn)
	}

	for _, name := range sortedKeys(s.Methods) {
		l := s.Methods[name]
		n := methodNames.get(name)
		fn(n.callCount, metric.Measured(float64(l.Count)))
		fn(n.errorCount, metric.Measured(float64(l.Errors)))
		latencySeriesNamed(n, l, fn)
	}

	for _, name := range sortedKeys(s.Custom.Counters) {
		fn(customNames.get(name).bare, metric.Measured(s.Custom.Counters[name]))
	}
	for _, name := range sortedKeys(s.Custom.Gauges) {
		fn(customNames.get(name).bare, metric.Measured(s.Custom.Gauges[name]))
	}
	for _, name := range sortedKeys(s.Custom.Timers) {
		latencySeriesNamed(customNames.get(name), s.Custom.Timers[name], fn)
	}

	fn(SeriesMonitorCPU, s.Overhead.CPUPercent)
	fn(SeriesMonitorSampleT, s.Overhead.SampleCPU)
	fn(SeriesMonitorMemory, metric.Measured(float64(s.Overhead.MemoryBytes)))
}

// latencySeries names the average (since start) and the recent-window
// percentiles of a latency summary, in milliseconds.
func latencySeries(prefix string, l LatencySummary, fn func(string, metric.Reading)) {
	latencySeriesNamed(plainNames.get(prefix), l, fn)
}

func latencySeriesNamed(n *seriesNames, l LatencySummary, fn func(string, metric.Reading)) {
	avg := noCallsYet
	if a, ok := l.Average(); ok {
		avg = metric.Measured(ms(a))
	}
	fn(n.average, avg)
	if l.Recent.Count == 0 {
		fn(n.p50, noCallsRecent)
		fn(n.p95, noCallsRecent)
		fn(n.p99, noCallsRecent)
		return
	}
	fn(n.p50, metric.Measured(ms(l.Recent.P50)))
	fn(n.p95, metric.Measured(ms(l.Recent.P95)))
	fn(n.p99, metric.Measured(ms(l.Recent.P99)))
}

// Readings for figures with nothing to measure, built once: EachSeries runs
// for every retained snapshot on every report.
var (
	noCallsYet        = metric.NoData("no calls yet")
	noCallsRecent     = metric.NoData("no calls in the recent window")
	noToolCallsRecent = metric.NoData("no tool calls in the recent window")
)

// seriesNames are the series names under one prefix ("tool.<name>",
// "custom.<name>", "query"), built once: trends and history walk every
// series of every retained snapshot, and building the names each time
// was most of their cost.
type seriesNames struct {
	bare                                                              string
	callCount, errorCount, callsPerSecond, callsLastMinute, errorRate string
	average, p50, p95, p99                                            string
}

// nameCache maps a tool, method, process or custom metric name to the
// names of its series, built once by mk. Names are bounded by
// Options.MaxTools per monitor.
type nameCache[T any] struct {
	mk func(name string) *T
	mu sync.RWMutex
	m  map[string]*T
}

func newNameCache[T any](mk func(name string) *T) *nameCache[T] {
	return &nameCache[T]{mk: mk, m: map[string]*T{}}
}

var (
	toolNames    = newNameCache(func(n string) *seriesNames { return newSeriesNames("tool." + n) })
	methodNames  = newNameCache(func(n string) *seriesNames { return newSeriesNames("method." + n) })
	customNames  = newNameCache(func(n string) *seriesNames { return newSeriesNames("custom." + n) })
	plainNames   = newNameCache(newSeriesNames)
	processNames = newNameCache(func(n string) *procSeriesNames {
		p := "process." + n + "."
		return &procSeriesNames{cpu: p + "cpu_percent", rss: p + "rss_bytes", fds: p + "open_fds", threads: p + "threads"}
	})
)

func (c *nameCache[T]) get(name string) *T {
	c.mu.RLock()
	n := c.m[name]
	c.mu.RUnlock()
	if n != nil {
		return n
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.m[name]; n != nil {
		return n
	}
	n = c.mk(name)
	c.m[name] = n
	return n
}

func newSeriesNames(prefix string) *seriesNames {
	p := prefix + "."
	return &seriesNames{
		bare: prefix, callCount: p + "call_count", errorCount: p + "error_count",
		callsPerSecond: p + "calls_per_second", callsLastMinute: p + "calls_last_minute",
		errorRate: p + "error_rate_percent", average: p + "average_response_time_ms",
		p50: p + "p50_ms", p95: p + "p95_ms", p99: p + "p99_ms",
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Series returns the named series of the snapshot; ok is false when the
// snapshot has no series of that name.
func (s *Snapshot) Series(name string) (r metric.Reading, ok bool) {
	s.EachSeries(func(n string, v metric.Reading) {
		if !ok && n == name {
			r, ok = v, true
		}
	})
	return r, ok
}

// toolFigures are the per-tool series suffixes.
var (
	toolFigures = map[string]bool{
		"call_count": true, "error_count": true, "calls_per_second": true, "calls_last_minute": true,
		"error_rate_percent": true, "average_response_time_ms": true, "p50_ms": true, "p95_ms": true, "p99_ms": true,
	}
	processFigures = map[string]bool{"cpu_percent": true, "rss_bytes": true, "open_fds": true, "threads": true}
	methodFigures  = map[string]bool{
		"call_count": true, "error_count": true, "average_response_time_ms": true, "p50_ms": true, "p95_ms": true, "p99_ms": true,
	}
	fixedSeries = func() map[string]bool {
		s := &Snapshot{System: &host.Stats{}}
		names := map[string]bool{}
		s.EachSeries(func(name string, _ metric.Reading) { names[name] = true })
		return names
	}()
)

// HasSeries reports whether name is a series of this monitor: one every
// monitor has (KnownSeries) or one of its registered application gauges.
// Alert rules are checked against it.
func (m *Monitor) HasSeries(name string) bool {
	return KnownSeries(name) || m.gauges.get(name) != nil
}

// KnownSeries reports whether name is a series every monitor can have, or
// a pattern ('*' for any tool or custom metric name) of such series. The
// names of application gauges beyond the three of the overview are known
// only once registered (see Monitor.AddRule).
func KnownSeries(name string) bool {
	if fixedSeries[name] {
		return true
	}
	if rest, ok := strings.CutPrefix(name, "tool."); ok {
		i := strings.LastIndexByte(rest, '.')
		return i > 0 && toolFigures[rest[i+1:]]
	}
	if rest, ok := strings.CutPrefix(name, "process."); ok {
		i := strings.LastIndexByte(rest, '.')
		return i > 0 && processFigures[rest[i+1:]]
	}
	if rest, ok := strings.CutPrefix(name, "method."); ok {
		i := strings.LastIndexByte(rest, '.')
		return i > 0 && methodFigures[rest[i+1:]]
	}
	if rest, ok := strings.CutPrefix(name, "custom."); ok && rest != "" {
		// custom.<name> is a counter or gauge; custom.<name>.<figure> a
		// timer's figure, or a counter whose own name has a dot.
		return true
	}
	return false
}

// procSeriesNames are the series of one watched process.
type procSeriesNames struct{ cpu, rss, fds, threads string }
