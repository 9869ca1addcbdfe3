package promrules

import (
	"fmt"
	"strings"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// A figure is one of the monitor's series (or a pattern of them) as PromQL
// computes it from /metrics, per job and instance.
type figure struct {
	expr string   // PromQL whose value is the series', in its unit
	by   []string // labels besides job and instance that tell results apart
	// name is the series' name in a message; for a pattern it holds
	// templates of the by labels: "tool.{{ $labels.gen_ai_tool_name }}.p95_ms".
	name string
	note string // how it differs from pbatunnel's own figure; "" when it does not
}

// A leftOutError says why a series has no faithful PromQL counterpart.
type leftOutError struct{ reason string }

func (e *leftOutError) Error() string { return e.reason }

func leftOut(format string, args ...any) error {
	return &leftOutError{reason: fmt.Sprintf(format, args...)}
}

var (
	// quantiles are the percentile figures of a latency summary
	// (monitor.LatencySummary), with the quantile each is.
	quantiles = map[string]string{"p50_ms": "0.5", "p95_ms": "0.95", "p99_ms": "0.99"}
	// timerFigures end the series of custom timers, which /metrics does
	// not export.
	timerFigures = []string{"average_response_time_ms", "p50_ms", "p95_ms", "p99_ms"}
)

// series translates the monitor series (or pattern) name, adding the
// recording rules it reads to b.
func (b *builder) series(name string) (figure, error) {
	// The name goes into annotations, which are templates: it is the
	// user's text, where "{{" must not start an action.
	f := figure{name: templateText(name)}
	plain := func(metric string) (figure, error) {
		f.expr = fmt.Sprintf("max %s (%s)", by(), metric)
		return f, nil
	}
	ours := func(metric string) (figure, error) {
		// A family every Go program exports: only pbatunnel's targets.
		f.expr = binop(fmt.Sprintf("max %s (%s)", by(), metric), "and "+on(), samplesTotal)
		return f, nil
	}
	// rate is a per-second rate, scaled; pbatunnel takes it over one
	// sampling interval unless lastMinute.
	rate := func(metric, scale string, lastMinute bool) (figure, error) {
		f.expr = scale + sumRate(metric, b.rate)
		f.note = b.intervalNote()
		if lastMinute {
			f.note = b.minuteNote()
		}
		return f, nil
	}
	switch name {
	case monitor.SeriesMemoryUsage:
		f.expr = b.record("instance:pbatunnel_memory_usage:percent", fmt.Sprintf("max %s (pbatunnel_memory_usage_percent)", by()))
	case monitor.SeriesCPUUsage:
		f.expr, f.note = b.hostCPU(), b.intervalNote()
	case monitor.SeriesProcessCPU:
		f.expr = b.record("instance:pbatunnel_process_cpu:percent_"+b.rateName(),
			binop("100 * "+sumRate("process_cpu_seconds_total", b.rate), "and "+on(), samplesTotal))
		f.note = b.intervalNote()
	case monitor.SeriesCacheHitRate:
		f.expr, f.note = b.cacheHitPercent(), b.minuteNote()
	case monitor.SeriesQueryTime:
		f.expr = b.record("instance:pbatunnel_store_query_duration_milliseconds:mean"+promDuration(b.rate),
			binop("1000 * "+sumRate("pbatunnel_store_query_duration_seconds_total", b.rate), "/", sumRate("pbatunnel_store_queries_total", b.rate)))
		f.note = b.minuteNote()
	case monitor.SeriesErrorRate:
		f.expr, f.note = b.toolErrorPercent(false), b.minuteNote()
	case monitor.SeriesThroughput:
		f.expr, f.note = b.toolCalls(false), b.minuteNote()
	case monitor.GaugeMemoryEntries, monitor.GaugeRelationships, monitor.GaugeActiveConnections:
		return plain(selector("pbatunnel_application", eq(nameLabel, name)))
	case "host_memory_percent":
		return plain("pbatunnel_host_memory_usage_percent")
	case "container_memory_percent":
		return plain("pbatunnel_container_memory_usage_percent")
	case "container_cpu_percent":
		f.expr = binop("100 * "+sumRate("pbatunnel_container_cpu_seconds_total", b.rate), "/", fmt.Sprintf("max %s (pbatunnel_container_cpu_quota_cores)", by()))
		f.note = b.intervalNote()
	case "disk_read_bytes_per_sec":
		return rate("pbatunnel_host_disk_read_bytes_total", "", false)
	case "disk_write_bytes_per_sec":
		return rate("pbatunnel_host_disk_written_bytes_total", "", false)
	case "disk_read_ops_per_sec":
		return rate("pbatunnel_host_disk_reads_completed_total", "", false)
	case "disk_write_ops_per_sec":
		return rate("pbatunnel_host_disk_writes_completed_total", "", false)
	case "net_rx_bytes_per_sec":
		return rate("pbatunnel_host_network_receive_bytes_total", "", false)
	case "net_tx_bytes_per_sec":
		return rate("pbatunnel_host_network_transmit_bytes_total", "", false)
	case "process_rss_bytes":
		return ours("process_resident_memory_bytes")
	case "process_open_fds":
		return ours("process_open_fds")
	case "process_threads":
		return plain("pbatunnel_process_threads")
	case "goroutines":
		return ours("go_goroutines")
	case monitor.SeriesCallsInMinute:
		f.expr, f.note = "60 * "+b.toolCalls(false), b.minuteNote()
	case monitor.SeriesCacheLookupsInMinute:
		f.expr, f.note = "60 * "+b.cacheLookups(), b.minuteNote()
	case monitor.SeriesQueriesInMinute:
		return rate("pbatunnel_store_queries_total", "60 * ", true)
	case monitor.SeriesConcurrency:
		f.expr = b.record("instance:pbatunnel_tool_concurrency:"+b.rateName(), sumRate(selector(opSum, toolCallsOnly), b.rate))
		f.note = b.minuteNote()
	case "throughput_last_interval", "error_rate_last_interval_percent", "cache_hit_rate_last_interval_percent":
		return f, leftOut("it covers one sampling interval, which /metrics does not carry; watch its last-minute form instead (%s)",
			map[string]string{
				"throughput_last_interval":             monitor.SeriesThroughput,
				"error_rate_last_interval_percent":     monitor.SeriesErrorRate,
				"cache_hit_rate_last_interval_percent": monitor.SeriesCacheHitRate,
			}[name])
	case "query_error_rate_percent":
		f.expr = binop("100 * "+sumRate(selector("pbatunnel_store_queries_total", `result="error"`), b.rate),
			"/", sumRate("pbatunnel_store_queries_total", b.rate))
		f.note = b.minuteNote()
	case "query.average_response_time_ms":
		f.expr = binop(fmt.Sprintf("1000 * sum %s (pbatunnel_store_query_duration_seconds_total)", by()), "/", fmt.Sprintf("sum %s (pbatunnel_store_queries_total)", by()))
	case "query.p50_ms", "query.p95_ms", "query.p99_ms":
		return f, leftOut("store queries have no latency histogram on /metrics, only their count and total time " +
			"(average_query_time_ms and query.average_response_time_ms are exported)")
	case monitor.SeriesToolP50, monitor.SeriesToolP95, monitor.SeriesToolP99:
		f.expr, f.note = b.quantile(strings.TrimPrefix(name, "tools."), ""), b.quantileNote()
	case monitor.SeriesMonitorCPU:
		return rate("pbatunnel_monitor_cpu_seconds_total", "100 * ", false)
	case monitor.SeriesMonitorSampleT:
		f.expr = binop("1000 * "+sumRate("pbatunnel_monitor_cpu_seconds_total", b.rate), "/", sumRate(samplesTotal, b.rate))
		f.note = fmt.Sprintf("the mean CPU of the samples over %s, where pbatunnel uses the last sample's", promDuration(b.rate))
	case monitor.SeriesMonitorMemory:
		return plain("pbatunnel_monitor_memory_bytes")
	default:
		return b.prefixed(name)
	}
	return f, nil
}

// prefixed translates the series with a name of their own: per tool, per
// method, custom, watched processes, application gauges.
func (b *builder) prefixed(name string) (figure, error) {
	f := figure{name: templateText(name)}
	if rest, ok := strings.CutPrefix(name, "tool."); ok {
		if glob, fig, ok := cutFigure(rest); ok {
			return b.toolSeries(glob, fig)
		}
	}
	if rest, ok := strings.CutPrefix(name, "method."); ok {
		if glob, fig, ok := cutFigure(rest); ok {
			return b.methodSeries(glob, fig)
		}
	}
	if strings.HasPrefix(name, "process.") {
		return f, leftOut("watched processes are not on /metrics")
	}
	if rest, ok := strings.CutPrefix(name, "custom."); ok && rest != "" {
		for _, t := range timerFigures {
			if strings.HasSuffix(rest, "."+t) {
				return f, leftOut("custom timers are not on /metrics")
			}
		}
		m := globMatcher(nameLabel, rest)
		f.expr = fmt.Sprintf("max %s (%s)", by(nameLabel),
			binop(selector("pbatunnel_custom_counter_total", m), "or", selector("pbatunnel_custom_gauge", m)))
		f.by = []string{nameLabel}
		if strings.Contains(rest, "*") {
			f.name = "custom.{{ $labels.name }}"
			f.note = "covers custom counters and gauges; the timers' figures pbatunnel's pattern also matches are not on /metrics"
		}
		return f, nil
	}
	if name != "" && !strings.ContainsAny(name, ".*") {
		// An application gauge registered from Go (Monitor.RegisterGauge).
		f.expr = fmt.Sprintf("max %s (%s)", by(), selector("pbatunnel_application", eq(nameLabel, name)))
		return f, nil
	}
	return f, leftOut("%q is not a series pbatunnel exports", name)
}

// cutFigure splits "<name>.<figure>" at the last dot, as monitor.KnownSeries
// does: names may hold dots, figures do not.
func cutFigure(s string) (name, fig string, ok bool) {
	i := strings.LastIndexByte(s, '.')
	if i <= 0 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// toolSeries translates tool.<glob>.<fig>.
func (b *builder) toolSeries(glob, fig string) (figure, error) {
	m := ""
	if glob != "*" {
		m = globMatcher(toolLabel, glob)
	}
	f := figure{by: []string{toolLabel}, name: templateText("tool." + glob + "." + fig)}
	if strings.Contains(glob, "*") {
		f.name = "tool.{{ $labels.gen_ai_tool_name }}." + fig
	}
	switch fig {
	case "calls_per_second":
		f.expr, f.note = selector(b.toolCalls(true), m), b.minuteNote()
	case "calls_last_minute":
		f.expr, f.note = "60 * "+selector(b.toolCalls(true), m), b.minuteNote()
	case "error_rate_percent":
		f.expr, f.note = selector(b.toolErrorPercent(true), m), b.minuteNote()
	case "p50_ms", "p95_ms", "p99_ms":
		f.expr, f.note = selector(b.quantile(fig, toolLabel), m), b.quantileNote()
	default:
		return b.latencySeries(f, fig, toolLabel, toolCallsOnly, m)
	}
	return f, nil
}

// methodSeries translates method.<glob>.<fig>.
func (b *builder) methodSeries(glob, fig string) (figure, error) {
	f := figure{by: []string{methodLabel}, name: templateText("method." + glob + "." + fig)}
	if strings.Contains(glob, "*") {
		f.name = "method.{{ $labels.mcp_method_name }}." + fig
	}
	if globMatch(glob, "tools/call") {
		f.note = "calls to tools the server does not have count in pbatunnel's figures for tools/call but are not on /metrics"
	}
	m := ""
	if glob != "*" {
		m = globMatcher(methodLabel, glob)
	}
	if quantiles[fig] != "" {
		f.expr = selector(b.quantile(fig, methodLabel), m)
		f.note = strings.TrimPrefix(f.note+"; "+b.quantileNote(), "; ")
		return f, nil
	}
	return b.latencySeries(f, fig, methodLabel, m)
}

// latencySeries translates the figures tools and methods share: counts
// since start, the mean since start, and the recent percentiles.
func (b *builder) latencySeries(f figure, fig, label string, matchers ...string) (figure, error) {
	count := selector(opCount, matchers...)
	switch fig {
	case "call_count":
		f.expr = fmt.Sprintf("sum %s (%s)", by(label), count)
	case "error_count":
		f.expr = binop(fmt.Sprintf("sum %s (%s)", by(label), selector(opCount, append(matchers, failed)...)),
			"or", fmt.Sprintf("0 * sum %s (%s)", by(label), count))
	case "average_response_time_ms":
		f.expr = binop(fmt.Sprintf("1000 * sum %s (%s)", by(label), selector(opSum, matchers...)), "/", fmt.Sprintf("sum %s (%s)", by(label), count))
	default:
		return f, leftOut("%q is not a figure pbatunnel exports", fig)
	}
	return f, nil
}

// quantile records a percentile figure ("p95_ms"), in milliseconds over
// the recent window: of the tool calls per instance (label "") or per tool
// (toolLabel), or of the requests per method (methodLabel).
func (b *builder) quantile(fig, label string) string {
	level, what, sel := "instance", "tool", selector(opBucket, toolCallsOnly)
	var extra []string
	switch label {
	case toolLabel:
		level, extra = "instance_tool", []string{toolLabel}
	case methodLabel:
		level, what, sel, extra = "instance_method", "method", opBucket, []string{methodLabel}
	}
	w := promDuration(b.recent)
	return b.record(fmt.Sprintf("%s:pbatunnel_%s_duration_milliseconds:%s_rate%s", level, what, strings.TrimSuffix(fig, "_ms"), w),
		fmt.Sprintf("1000 * histogram_quantile(%s, sum %s (rate(%s[%s])))", quantiles[fig], by(append(extra, "le")...), sel, w))
}

// The recording rules the built-in figures read. perTool adds the tool
// label to the aggregate.

func (b *builder) toolCalls(perTool bool) string {
	level, extra := "instance", []string(nil)
	if perTool {
		level, extra = "instance_tool", []string{toolLabel}
	}
	return b.record(level+":pbatunnel_tool_calls:"+b.rateName(), sumRate(selector(opCount, toolCallsOnly), b.rate, extra...))
}

// toolErrors counts a tool that has calls and no failure as 0 errors, as
// pbatunnel does, rather than leaving it out for want of a failed series.
func (b *builder) toolErrors(perTool bool) string {
	calls := b.toolCalls(perTool)
	level, extra := "instance", []string(nil)
	if perTool {
		level, extra = "instance_tool", []string{toolLabel}
	}
	return b.record(level+":pbatunnel_tool_errors:"+b.rateName(),
		binop(sumRate(selector(opCount, toolCallsOnly, failed), b.rate, extra...), "or", "0 * "+calls))
}

func (b *builder) toolErrorPercent(perTool bool) string {
	errs, calls := b.toolErrors(perTool), b.toolCalls(perTool)
	level := "instance"
	if perTool {
		level = "instance_tool"
	}
	return b.record(level+":pbatunnel_tool_errors:percent_"+b.rateName(), "100 * "+errs+" / "+calls)
}

func (b *builder) cacheLookups() string {
	return b.record("instance:pbatunnel_cache_lookups:"+b.rateName(), sumRate("pbatunnel_cache_lookups_total", b.rate))
}

func (b *builder) cacheHitPercent() string {
	lookups := b.cacheLookups()
	return b.record("instance:pbatunnel_cache_hits:percent_"+b.rateName(),
		binop("100 * "+sumRate(selector("pbatunnel_cache_lookups_total", `result="hit"`), b.rate), "/", lookups))
}

// hostCPU is the busy share of the host's CPU time, as pbatunnel counts it:
// everything but idle and iowait.
func (b *builder) hostCPU() string {
	return b.record("instance:pbatunnel_cpu_usage:percent_"+b.rateName(),
		fmt.Sprintf("100 * (1 - %s)", binop(sumRate(selector("pbatunnel_host_cpu_seconds_total", `mode=~"idle|iowait"`), b.rate),
			"/", sumRate("pbatunnel_host_cpu_seconds_total", b.rate))))
}

func (b *builder) rateName() string { return "rate" + promDuration(b.rate) }

// intervalNote is the difference for figures pbatunnel takes between two
// consecutive samples.
func (b *builder) intervalNote() string {
	return fmt.Sprintf("pbatunnel measures it between two samples (--interval); here it is a rate over %s (--rate-window)", promDuration(b.rate))
}

// minuteNote is the difference, if any, for pbatunnel's last-minute figures.
func (b *builder) minuteNote() string {
	if b.rate == DefaultRateWindow {
		return ""
	}
	return fmt.Sprintf("pbatunnel takes it over the last minute; here over %s (--rate-window)", promDuration(b.rate))
}

func (b *builder) quantileNote() string {
	return "pbatunnel reads percentiles off buckets a sixteenth apart; Prometheus interpolates within the buckets of /metrics " +
		"(0.5ms to 300s, 2 to 2.5 times apart), so the two can differ by up to a bucket's width"
}

// globMatch reports whether s matches pattern, '*' standing for any run of
// characters (alert rules' patterns).
func globMatch(pattern, s string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == s
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, last)
}
