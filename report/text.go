package report

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// WriteText renders the report as plain text for a terminal or a log: the
// overview, tools, performance, system, application and custom metrics, the
// monitor's cost, and the trends that are not stable.
func (r *Report) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	p("pbatunnel performance report\n")
	if r.Status == StatusNoData {
		p("\n%s\n", r.Message)
		return bw.Flush()
	}
	mi := r.MonitoringInfo
	p("last update %s, monitoring for %.1f min, %d samples retained (every %gs)\n",
		mi.LastUpdate, mi.MonitoringDurationMinutes, mi.MetricsCount, mi.IntervalSeconds)
	if mi.Live {
		// As the JSON's monitoring_info.live says: the text must not pass
		// for a sample's report either.
		p("live: counts and latencies up to the last update; host figures and trends of sample %d\n", mi.SamplesTaken)
	}

	ov := r.SystemOverview
	p("\nOverview (rates over the last %.0fs)\n", ov.RateWindowSeconds)
	row := func(label, key string, v *float64, unit string) {
		if v == nil {
			p("  %-22s n/a (%s)\n", label, ov.Unavailable[key])
			return
		}
		p("  %-22s %.2f%s\n", label, *v, unit)
	}
	// Counts are whole numbers and shown as such, not as 2051.00.
	countRow := func(label, key string, v *float64) {
		if v == nil {
			p("  %-22s n/a (%s)\n", label, ov.Unavailable[key])
			return
		}
		p("  %-22s %s\n", label, plain(*v))
	}
	row("Memory usage ("+ov.MemoryUsageSource+")", "memory_usage_percent", ov.MemoryUsagePercent, " %")
	row("CPU usage", "cpu_usage_percent", ov.CPUUsagePercent, " %")
	row("Cache hit rate", "cache_hit_rate_percent", ov.CacheHitRatePercent, " %")
	countRow("Memory entries", monitor.GaugeMemoryEntries, ov.MemoryEntriesCount)
	countRow("Relationships", monitor.GaugeRelationships, ov.RelationshipCount)
	countRow("Active connections", monitor.GaugeActiveConnections, ov.ActiveConnections)
	row("Avg query time", "average_query_time_ms", ov.AverageQueryTimeMs, " ms")
	row("Error rate", "error_rate_percent", ov.ErrorRatePercent, " %")
	row("Throughput", "throughput_operations_per_second", ov.ThroughputOperationsPerSecond, " ops/s")

	p("\nTools\n")
	if len(r.ToolMetrics) == 0 {
		p("  no tool calls recorded yet\n")
	} else {
		p("  %-24s %8s %7s %9s %9s %9s %9s  %s\n", "tool", "calls", "errors", "success%", "avg ms", "p95 ms", "p99 ms", "last used")
		for _, name := range slices.Sorted(maps.Keys(r.ToolMetrics)) {
			t := r.ToolMetrics[name]
			p("  %-24s %8d %7d %9.1f %9.2f %9s %9s  %s\n", trunc(name, 24), t.CallCount, t.ErrorCount,
				t.SuccessRate, t.AverageResponseTime, optMs(t.Recent.P95), optMs(t.Recent.P99), t.LastUsed)
		}
	}

	pf := r.Performance
	q := pf.Queries
	p("\nPerformance\n")
	p("  throughput        %s (last interval), %s (last minute)\n", withUnit(pf.ThroughputPerSecond.LastInterval, "ops/s"), withUnit(pf.ThroughputPerSecond.LastMinute, "ops/s"))
	p("  error rate        %s (last interval), %s (last minute)\n", withUnit(pf.ErrorRatePercent.LastInterval, "%"), withUnit(pf.ErrorRatePercent.LastMinute, "%"))
	p("  cache hit rate    %s (last minute), %s since start (%d hits, %d misses)\n", withUnit(pf.CacheHitRatePercent.LastMinute, "%"), withUnit(pf.CacheHitRateTotal, "%"), pf.CacheHits, pf.CacheMisses)
	p("  tool latency      p50 %s, p95 %s, p99 %s ms (recent)\n", optMs(pf.ToolLatency.Recent.P50), optMs(pf.ToolLatency.Recent.P95), optMs(pf.ToolLatency.Recent.P99))
	p("  queries           %d (%d failed), avg %s, p50 %s p95 %s p99 %s ms (recent)\n", q.Count, q.Errors, withUnit(q.AverageMs, "ms"), optMs(q.Recent.P50), optMs(q.Recent.P95), optMs(q.Recent.P99))

	if s := r.System; s != nil {
		p("\nSystem\n")
		p("  host CPU %s, host memory %s, container memory %s\n", withUnit(s.CPUPercent, "%"), withUnit(s.HostMemoryPercent, "%"), withUnit(s.ContainerMemoryPercent, "%"))
		p("  disk read %s (%s), write %s (%s)\n", byteRate(s.DiskReadBytesPerSec), withUnit(s.DiskReadOpsPerSec, "ops/s"), byteRate(s.DiskWriteBytesPerSec), withUnit(s.DiskWriteOpsPerSec, "ops/s"))
		p("  network rx %s, tx %s\n", byteRate(s.NetRxBytesPerSec), byteRate(s.NetTxBytesPerSec))
		pr := s.Process
		p("  process %d: CPU %s of a core, RSS %s, %s goroutines, %s open fds\n", pr.PID, withUnit(pr.CPUPercent, "%"), bytesOf(pr.RSSBytes), count(pr.Goroutines), count(pr.OpenFDs))
	}

	if c := r.CustomMetrics; c != nil && len(c.Counters)+len(c.Gauges)+len(c.Timers) > 0 {
		p("\nCustom metrics\n")
		for _, k := range slices.Sorted(maps.Keys(c.Counters)) {
			p("  %-24s %s (counter)\n", k, plain(c.Counters[k]))
		}
		for _, k := range slices.Sorted(maps.Keys(c.Gauges)) {
			p("  %-24s %s (gauge)\n", k, plain(c.Gauges[k]))
		}
		for _, k := range slices.Sorted(maps.Keys(c.Timers)) {
			t := c.Timers[k]
			p("  %-24s %d timed, avg %s ms, p95 %s ms\n", k, t.Count, t.AverageMs, optMs(t.Recent.P95))
		}
	}

	if o := r.SelfOverhead; o != nil {
		p("\nMonitor overhead\n")
		p("  %s CPU for the last sample, %s of one core, %s held for %d samples\n",
			withUnit(o.SampleCPUMs, "ms"), withUnit(o.CPUPercentOfCore, "%"), humanBytes(float64(o.MemoryBytes)), o.HistorySamples)
	}

	var moving []string
	for name, t := range r.Trends {
		if t.Direction == TrendIncreasing || t.Direction == TrendDecreasing {
			moving = append(moving, fmt.Sprintf("  %-40s %-10s %+.3g/min (min %.3g, avg %.3g, max %.3g)", trunc(name, 40), t.Direction, t.SlopePerMinute, t.Min, t.Avg, t.Max))
		}
	}
	sort.Strings(moving)
	p("\nTrends over %.0f min: %d series, %d moving\n", mi.TrendWindowMinutes, len(r.Trends), len(moving))
	if len(moving) > 0 {
		p("%s\n", strings.Join(moving, "\n"))
	}
	return bw.Flush()
}

// plain renders v in plain decimal notation with no more digits than it
// has: 2051 as "2051", never "2051.00" or "2.051e+03".
func plain(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func optMs(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", *v)
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// Text returns WriteText's rendering as a string.
func (r *Report) Text() string {
	var b strings.Builder
	_ = r.WriteText(&b) // a strings.Builder does not fail
	return b.String()
}

// withUnit renders a measured value with its unit, or "n/a (reason)".
func withUnit(r metric.Reading, unit string) string {
	if !r.OK {
		return "n/a (" + r.Reason + ")"
	}
	if unit == "%" {
		return fmt.Sprintf("%.2f %%", r.Value)
	}
	return fmt.Sprintf("%.2f %s", r.Value, unit)
}

func count(r metric.Reading) string {
	if !r.OK {
		return "n/a (" + r.Reason + ")"
	}
	return fmt.Sprintf("%.0f", r.Value)
}

func bytesOf(r metric.Reading) string {
	if !r.OK {
		return "n/a (" + r.Reason + ")"
	}
	return humanBytes(r.Value)
}

func byteRate(r metric.Reading) string {
	if !r.OK {
		return "n/a (" + r.Reason + ")"
	}
	return humanBytes(r.Value) + "/s"
}

// humanBytes renders a byte count in binary units.
func humanBytes(v float64) string {
	const unit = 1024
	if v < unit {
		return fmt.Sprintf("%.0f B", v)
	}
	exp := 0
	for n := v / unit; n >= unit && exp < 4; n /= unit {
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", v/math.Pow(unit, float64(exp+1)), "KMGTP"[exp])
}
