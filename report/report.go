package report

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor/host"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// Report statuses.
const (
	StatusOK     = "ok"
	StatusNoData = "no_data"
)

// A PerformanceReport is the monitor's account of itself, built from the latest
// snapshot and the history. It marshals to the JSON of the guide's
// /api/metrics (every key it names), plus trends, percentiles, I/O rates,
// custom metrics and the monitor's own cost.
//
// A figure that could not be measured is null in SystemOverview, with the
// reason under system_overview.unavailable, and {"unavailable": reason}
// elsewhere; it is never a stand-in number.
type Report struct {
	Status         string                `json:"status"`
	Message        string                `json:"message,omitempty"`
	SystemOverview *Overview             `json:"system_overview"`
	Trends         map[string]Trend      `json:"trends"`
	ToolMetrics    map[string]ToolReport `json:"tool_metrics"`
	// MethodMetrics are the MCP requests by method (tools/call included).
	MethodMetrics map[string]TimerReport `json:"method_metrics"`
	Performance   *PerformanceMetrics    `json:"performance"`
	System        *host.Stats            `json:"system"`
	// Processes are the watched processes (a tunnel\'s MCP server), by name.
	Processes      map[string]host.ProcessStats `json:"processes,omitempty"`
	Application    map[string]metric.Reading    `json:"application"`
	CustomMetrics  *CustomReport                `json:"custom_metrics"`
	SelfOverhead   *SelfOverhead                `json:"self_overhead"`
	MonitoringInfo MonitoringInfo               `json:"monitoring_info"`
}

// Overview is the guide's system_overview: the six cards of the dashboard
// and the figures alerts watch. Rates are over the last minute.
type Overview struct {
	MemoryUsagePercent            *float64 `json:"memory_usage_percent"`
	MemoryUsageSource             string   `json:"memory_usage_source"`
	CPUUsagePercent               *float64 `json:"cpu_usage_percent"`
	MemoryEntriesCount            *float64 `json:"memory_entries_count"`
	RelationshipCount             *float64 `json:"relationship_count"`
	CacheHitRatePercent           *float64 `json:"cache_hit_rate_percent"`
	AverageQueryTimeMs            *float64 `json:"average_query_time_ms"`
	ActiveConnections             *float64 `json:"active_connections"`
	ErrorRatePercent              *float64 `json:"error_rate_percent"`
	ThroughputOperationsPerSecond *float64 `json:"throughput_operations_per_second"`
	// RateWindowSeconds is the span the rates above really cover.
	RateWindowSeconds float64 `json:"rate_window_seconds"`
	// Unavailable says, for each null figure above, why it is missing.
	Unavailable map[string]string `json:"unavailable,omitempty"`
}

// ToolReport is one tool in tool_metrics. Times are in milliseconds.
type ToolReport struct {
	CallCount           uint64  `json:"call_count"`
	ErrorCount          uint64  `json:"error_count"`
	SuccessRate         float64 `json:"success_rate"`
	AverageResponseTime float64 `json:"average_response_time"`
	MinResponseTime     float64 `json:"min_response_time"`
	MaxResponseTime     float64 `json:"max_response_time"`
	LastUsed            string  `json:"last_used"`
	// ErrorTypes counts failures by kind: "tool_error" for results with
	// isError, a JSON-RPC code for protocol errors.
	ErrorTypes     map[string]uint64 `json:"error_types,omitempty"`
	CallsPerSecond metric.Reading    `json:"calls_per_second"`
	// ResponseBytesAvg, ResponseTokensAvg and ResponseTokensP95 are what
	// the tool's responses cost an agent: their mean size on the wire and
	// in model tokens (o200k_base), over the responses measured.
	ResponseBytesAvg  metric.Reading   `json:"response_bytes_avg"`
	ResponseTokensAvg metric.Reading   `json:"response_tokens_avg"`
	ResponseTokensP95 metric.Reading   `json:"response_tokens_p95"`
	ErrorRatePercent  metric.Reading   `json:"error_rate_percent"`
	Recent            PercentileReport `json:"recent"`
	SinceStart        PercentileReport `json:"since_start"`
}

// PercentileReport is a set of percentiles in milliseconds, each within
// PercentileRelativeError of the exact nearest-rank value; null when the set
// is empty.
type PercentileReport struct {
	Count         uint64   `json:"count"`
	WindowSeconds float64  `json:"window_seconds"`
	P50           *float64 `json:"p50_ms"`
	P90           *float64 `json:"p90_ms"`
	P95           *float64 `json:"p95_ms"`
	P99           *float64 `json:"p99_ms"`
}

// PerformanceMetrics holds the performance metrics in full: throughput, error and
// cache hit rates over both windows, and store query latency.
type PerformanceMetrics struct {
	IntervalSeconds     float64          `json:"interval_seconds"`
	MinuteSpanSeconds   float64          `json:"minute_span_seconds"`
	ThroughputPerSecond monitor.Windowed `json:"throughput_operations_per_second"`
	ErrorRatePercent    monitor.Windowed `json:"error_rate_percent"`
	CacheHitRatePercent monitor.Windowed `json:"cache_hit_rate_percent"`
	CacheHitRateTotal   metric.Reading   `json:"cache_hit_rate_percent_since_start"`
	CacheHits           uint64           `json:"cache_hits"`
	CacheMisses         uint64           `json:"cache_misses"`
	TotalCalls          uint64           `json:"total_calls"`
	TotalErrors         uint64           `json:"total_errors"`
	// ToolLatency is all tool calls together.
	ToolLatency ToolLatencyReport `json:"tool_latency"`
	Queries     QueryReport       `json:"queries"`
}

// ToolLatencyReport is the latency of all tool calls together.
type ToolLatencyReport struct {
	Recent     PercentileReport `json:"recent"`
	SinceStart PercentileReport `json:"since_start"`
}

// QueryReport is store query latency, in milliseconds.
type QueryReport struct {
	Count            uint64           `json:"count"`
	Errors           uint64           `json:"errors"`
	AverageMs        metric.Reading   `json:"average_ms"`
	AverageMsWindow  monitor.Windowed `json:"average_ms_windowed"`
	ErrorRatePercent monitor.Windowed `json:"error_rate_percent"`
	MinMs            metric.Reading   `json:"min_ms"`
	MaxMs            metric.Reading   `json:"max_ms"`
	Recent           PercentileReport `json:"recent"`
	SinceStart       PercentileReport `json:"since_start"`
}

// CustomReport is the user's own metrics.
type CustomReport struct {
	Counters map[string]float64     `json:"counters"`
	Gauges   map[string]float64     `json:"gauges"`
	Timers   map[string]TimerReport `json:"timers"`
}

// TimerReport is one custom timer or MCP method, in milliseconds.
type TimerReport struct {
	Count      uint64            `json:"count"`
	Errors     uint64            `json:"errors"`
	ErrorTypes map[string]uint64 `json:"error_types,omitempty"`
	AverageMs  metric.Reading    `json:"average_ms"`
	Recent     PercentileReport  `json:"recent"`
	SinceStart PercentileReport  `json:"since_start"`
}

// SelfOverhead is what monitoring costs.
type SelfOverhead struct {
	SampleCPUMs        metric.Reading `json:"sample_cpu_ms"`
	SampleWallMs       float64        `json:"sample_wall_ms"`
	CPUPercentOfCore   metric.Reading `json:"cpu_percent_of_one_core"`
	TotalCPUSeconds    float64        `json:"total_cpu_seconds"`
	MemoryBytes        int64          `json:"memory_bytes"`
	HistorySamples     int            `json:"history_samples"`
	DroppedMetricNames uint64         `json:"dropped_metric_names"`
}

// MonitoringInfo says what the report covers.
type MonitoringInfo struct {
	MetricsCount              int     `json:"metrics_count"`
	SamplesTaken              uint64  `json:"samples_taken"`
	MonitoringDurationMinutes float64 `json:"monitoring_duration_minutes"`
	LastUpdate                string  `json:"last_update,omitempty"`
	StartedAt                 string  `json:"started_at,omitempty"`
	IntervalSeconds           float64 `json:"interval_seconds"`
	RetentionMaxSamples       int     `json:"retention_max_samples"`
	RetentionMaxAgeHours      float64 `json:"retention_max_age_hours"`
	TrendWindowMinutes        float64 `json:"trend_window_minutes"`
	// Live says which of the two reports this is: true for the counters
	// up to the moment it was asked for (a report of Monitor.Live), false
	// for the report of the latest sample, which every reader of that
	// sample shares. Always written, so a reader need not know the rule.
	Live                bool    `json:"live"`
	RecentWindowMinutes float64 `json:"recent_window_minutes"`
}

// Latest is the report of m's latest sample.
func Latest(m *monitor.Monitor) *Report { return For(m, m.Latest()) }

// For is the report of snapshot s of m, with m's history and settings.
func For(m *monitor.Monitor, s *monitor.Snapshot) *Report { return Of(s, m.History(), m.Options()) }

// OfDefault is the report of the process-wide monitor, monitor.Default:
// the guide's get_performance_report.
func OfDefault() *Report { return Latest(monitor.Default()) }

// Of builds the report of snapshot s (nil: no sample taken yet, which the
// report says, with no figures), its trends from the retained snapshots
// (oldest first, as Monitor.History returns them; those outside the trend
// window before s are left out) and its settings from o. It is a pure
// function of its arguments: the same snapshot gives the same report, so
// readers may build it once per sample and share it.
func Of(s *monitor.Snapshot, retained []*monitor.Snapshot, o monitor.Options) *Report {
	r := &Report{
		Trends:        map[string]Trend{},
		ToolMetrics:   map[string]ToolReport{},
		MethodMetrics: map[string]TimerReport{},
		Application:   map[string]metric.Reading{},
		MonitoringInfo: MonitoringInfo{
			MetricsCount:         len(retained),
			IntervalSeconds:      o.Interval.Seconds(),
			RetentionMaxSamples:  o.MaxSamples,
			RetentionMaxAgeHours: o.MaxAge.Hours(),
			TrendWindowMinutes:   o.TrendWindow.Minutes(),
			RecentWindowMinutes:  o.RecentWindow.Minutes(),
		},
	}
	if s == nil {
		r.Status = StatusNoData
		r.Message = "no sample taken yet: start monitoring (monitor.Start) and the first sample is taken at once"
		return r
	}
	r.Status = StatusOK
	mi := &r.MonitoringInfo
	mi.SamplesTaken = s.Seq
	mi.Live = s.Live
	mi.MonitoringDurationMinutes = round(s.Time.Sub(s.Started).Minutes(), 3)
	mi.LastUpdate = s.Time.UTC().Format(monitor.TimeFormat)
	mi.StartedAt = s.Started.UTC().Format(monitor.TimeFormat)

	r.SystemOverview = overviewOf(s)
	r.Trends = Trends(window(retained, s.Time.Add(-o.TrendWindow), s.Time))
	for name, t := range s.Tools {
		r.ToolMetrics[name] = toolReportOf(t, s.Time)
	}
	for name, l := range s.Methods {
		r.MethodMetrics[name] = timerReportOf(l, s.Time)
	}
	r.Performance = performanceOf(s)
	r.System = s.System
	r.Processes = s.Processes
	for name, g := range s.Gauges {
		r.Application[name] = g
	}
	r.CustomMetrics = customReportOf(s)
	r.SelfOverhead = &SelfOverhead{
		SampleCPUMs:        roundReading(s.Overhead.SampleCPU, 3),
		SampleWallMs:       round(ms(s.Overhead.SampleWall), 3),
		CPUPercentOfCore:   roundReading(s.Overhead.CPUPercent, 4),
		TotalCPUSeconds:    round(s.Overhead.TotalCPU.Seconds(), 4),
		MemoryBytes:        s.Overhead.MemoryBytes,
		HistorySamples:     s.Overhead.HistorySamples,
		DroppedMetricNames: s.DroppedNames,
	}
	return r
}

// window returns the snapshots taken from from to to, both included, of
// snaps, which are oldest first.
func window(snaps []*monitor.Snapshot, from, to time.Time) []*monitor.Snapshot {
	i := sort.Search(len(snaps), func(i int) bool { return !snaps[i].Time.Before(from) })
	j := sort.Search(len(snaps), func(i int) bool { return snaps[i].Time.After(to) })
	if j < i {
		return nil
	}
	return snaps[i:j]
}

func overviewOf(s *monitor.Snapshot) *Overview {
	ov := &Overview{
		MemoryUsageSource: "host",
		RateWindowSeconds: round(s.Rates.MinuteSpan.Seconds(), 3),
	}
	if s.System != nil {
		ov.MemoryUsageSource = s.System.MemorySource
	}
	set := func(dst **float64, key string, r metric.Reading) {
		if r.OK {
			v := round(r.Value, 3)
			*dst = &v
			return
		}
		if ov.Unavailable == nil {
			ov.Unavailable = map[string]string{}
		}
		ov.Unavailable[key] = r.Reason
	}
	set(&ov.MemoryUsagePercent, "memory_usage_percent", s.MemoryPercent())
	set(&ov.CPUUsagePercent, "cpu_usage_percent", s.CPUPercent())
	set(&ov.MemoryEntriesCount, monitor.GaugeMemoryEntries, s.Gauge(monitor.GaugeMemoryEntries))
	set(&ov.RelationshipCount, monitor.GaugeRelationships, s.Gauge(monitor.GaugeRelationships))
	set(&ov.CacheHitRatePercent, "cache_hit_rate_percent", s.Rates.CacheHitRate.LastMinute)
	set(&ov.AverageQueryTimeMs, "average_query_time_ms", s.Rates.QueryAverage.LastMinute)
	set(&ov.ActiveConnections, monitor.GaugeActiveConnections, s.Gauge(monitor.GaugeActiveConnections))
	set(&ov.ErrorRatePercent, "error_rate_percent", s.Rates.ErrorRate.LastMinute)
	set(&ov.ThroughputOperationsPerSecond, "throughput_operations_per_second", s.Rates.Throughput.LastMinute)
	return ov
}

func toolReportOf(t monitor.ToolSnapshot, now time.Time) ToolReport {
	avg, _ := t.Average()
	tr := ToolReport{
		CallCount:           t.Count,
		ErrorCount:          t.Errors,
		SuccessRate:         round(t.SuccessRate(), 3),
		AverageResponseTime: round(ms(avg), 3),
		MinResponseTime:     round(ms(t.Min), 3),
		MaxResponseTime:     round(ms(t.Max), 3),
		ErrorTypes:          t.ErrorTypes,
		CallsPerSecond:      roundReading(t.CallsPerSecond, 3),
		ResponseBytesAvg:    roundReading(t.Responses.BytesAvg, 1),
		ResponseTokensAvg:   roundReading(t.Responses.TokensAvg, 1),
		ResponseTokensP95:   roundReading(t.Responses.TokensP95, 0),
		ErrorRatePercent:    roundReading(t.ErrorRate, 3),
		Recent:              percentileReportOf(t.Recent, now),
		SinceStart:          percentileReportOf(t.SinceStart, now),
	}
	if !t.LastUsed.IsZero() {
		tr.LastUsed = t.LastUsed.UTC().Format(monitor.TimeFormat)
	}
	return tr
}

func percentileReportOf(p monitor.Percentiles, now time.Time) PercentileReport {
	pr := PercentileReport{Count: p.Count, WindowSeconds: round(now.Sub(p.Since).Seconds(), 3)}
	if p.Count == 0 {
		return pr
	}
	f := func(d time.Duration) *float64 { v := round(ms(d), 3); return &v }
	pr.P50, pr.P90, pr.P95, pr.P99 = f(p.P50), f(p.P90), f(p.P95), f(p.P99)
	return pr
}

func performanceOf(s *monitor.Snapshot) *PerformanceMetrics {
	w := func(x monitor.Windowed) monitor.Windowed {
		return monitor.Windowed{LastInterval: roundReading(x.LastInterval, 3), LastMinute: roundReading(x.LastMinute, 3)}
	}
	p := &PerformanceMetrics{
		IntervalSeconds:     round(s.Rates.IntervalSpan.Seconds(), 3),
		MinuteSpanSeconds:   round(s.Rates.MinuteSpan.Seconds(), 3),
		ThroughputPerSecond: w(s.Rates.Throughput),
		ErrorRatePercent:    w(s.Rates.ErrorRate),
		CacheHitRatePercent: w(s.Rates.CacheHitRate),
		CacheHitRateTotal:   roundReading(s.CacheHitRateSinceStart(), 3),
		CacheHits:           s.CacheHits,
		CacheMisses:         s.CacheMisses,
		TotalCalls:          s.Calls,
		TotalErrors:         s.Errors,
		ToolLatency: ToolLatencyReport{
			Recent:     percentileReportOf(s.ToolLatencyRecent, s.Time),
			SinceStart: percentileReportOf(s.ToolLatency, s.Time),
		},
	}
	q := s.Queries
	p.Queries = QueryReport{
		Count:            q.Count,
		Errors:           q.Errors,
		AverageMs:        avgReading(q),
		AverageMsWindow:  w(s.Rates.QueryAverage),
		ErrorRatePercent: w(s.Rates.QueryErrorRate),
		MinMs:            metric.NoData("no queries yet"),
		MaxMs:            metric.NoData("no queries yet"),
		Recent:           percentileReportOf(q.Recent, s.Time),
		SinceStart:       percentileReportOf(q.SinceStart, s.Time),
	}
	if q.Count > 0 {
		p.Queries.MinMs, p.Queries.MaxMs = metric.Measured(round(ms(q.Min), 3)), metric.Measured(round(ms(q.Max), 3))
	}
	return p
}

func avgReading(l monitor.LatencySummary) metric.Reading {
	if a, ok := l.Average(); ok {
		return metric.Measured(round(ms(a), 3))
	}
	return metric.NoData("none recorded yet")
}

func customReportOf(s *monitor.Snapshot) *CustomReport {
	c := &CustomReport{
		Counters: s.Custom.Counters,
		Gauges:   s.Custom.Gauges,
		Timers:   make(map[string]TimerReport, len(s.Custom.Timers)),
	}
	for name, t := range s.Custom.Timers {
		c.Timers[name] = timerReportOf(t, s.Time)
	}
	return c
}

func timerReportOf(t monitor.LatencySummary, now time.Time) TimerReport {
	return TimerReport{
		Count:      t.Count,
		Errors:     t.Errors,
		ErrorTypes: t.ErrorTypes,
		AverageMs:  avgReading(t),
		Recent:     percentileReportOf(t.Recent, now),
		SinceStart: percentileReportOf(t.SinceStart, now),
	}
}

func round(v float64, places int) float64 { return metric.Round(v, places) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func roundReading(r metric.Reading, places int) metric.Reading {
	if r.OK {
		r.Value = round(r.Value, places)
	}
	return r
}

// JSON returns the report as indented JSON.
func (r *Report) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }
