package dashboard

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// liveCollector exposes the monitor in the Prometheus exposition format.
// MCP metrics follow the OpenTelemetry MCP semantic conventions
// (mcp.server.operation.duration with mcp.method.name, gen_ai.tool.name and
// error.type, dots becoming underscores); the rest are pbatunnel_* series.
// A figure that is unavailable is left out, never exported as 0.
//
// It is live, the one reader of the dashboard that is (see the package
// comment): counts, latencies, custom metrics and application gauges are
// as of the scrape, as Prometheus expects of a counter, read from
// Monitor.Live; what only a sample measures (host, container and process
// figures, the sampler's own cost) is of the latest sample.
type liveCollector struct {
	// ctx bounds the live reads: Collect is given no context of its own.
	ctx    context.Context
	m      *monitor.Monitor
	alerts *alert.Engine // nil: no rules
	// upper are the histogram bounds in seconds: the OpenTelemetry MCP
	// boundaries and finer ones below 10 ms, at which the monitor counts
	// exactly (monitor.DurationBounds).
	upper []float64

	opDuration   *prometheus.Desc
	respTokens   *prometheus.Desc
	host         hostSeries
	cacheLookups *prometheus.Desc
	queries      *prometheus.Desc
	queryTime    *prometheus.Desc
	custCounter  *prometheus.Desc
	custGauge    *prometheus.Desc
	appGauge     *prometheus.Desc
	monCPU       *prometheus.Desc
	monMem       *prometheus.Desc
	samples      *prometheus.Desc
	alertsFiring *prometheus.Desc
	notifDropped *prometheus.Desc
	notifFailed  *prometheus.Desc
	droppedNames *prometheus.Desc
}

func newLiveCollector(ctx context.Context, m *monitor.Monitor, e *alert.Engine) *liveCollector {
	c := &liveCollector{ctx: ctx, m: m, alerts: e}
	for _, b := range monitor.DurationBounds() {
		c.upper = append(c.upper, b.Seconds())
	}
	c.respTokens = prometheus.NewDesc("mcp_tool_response_tokens",
		"Model tokens (o200k_base) of the text of tool results, by tool: what each tool costs an agent's context.",
		[]string{"gen_ai_tool_name"}, nil)
	c.opDuration = prometheus.NewDesc("mcp_server_operation_duration_seconds",
		"Duration of MCP requests handled by the server (OpenTelemetry mcp.server.operation.duration).",
		[]string{"mcp_method_name", "gen_ai_tool_name", "error_type"}, nil)
	c.host = newHostSeries()
	c.cacheLookups = prometheus.NewDesc("pbatunnel_cache_lookups_total", "Cache lookups reported by the cache.", []string{"result"}, nil)
	c.queries = prometheus.NewDesc("pbatunnel_store_queries_total", "Store queries.", []string{"result"}, nil)
	c.queryTime = prometheus.NewDesc("pbatunnel_store_query_duration_seconds_total", "Total time spent in store queries.", nil, nil)
	c.custCounter = prometheus.NewDesc("pbatunnel_custom_counter_total", "User-defined counters.", []string{"name"}, nil)
	c.custGauge = prometheus.NewDesc("pbatunnel_custom_gauge", "User-defined gauges.", []string{"name"}, nil)
	c.appGauge = prometheus.NewDesc("pbatunnel_application", "Application gauges registered by the code that owns them.", []string{"name"}, nil)
	c.monCPU = prometheus.NewDesc("pbatunnel_monitor_cpu_seconds_total", "CPU time the sampler has used, measured on its own thread.", nil, nil)
	c.monMem = prometheus.NewDesc("pbatunnel_monitor_memory_bytes", "Bytes held by the monitor's counters and retained history.", nil, nil)
	c.samples = prometheus.NewDesc("pbatunnel_monitor_samples_total", "Samples taken.", nil, nil)
	c.alertsFiring = prometheus.NewDesc("pbatunnel_alerts_firing", "Alerts firing now, by rule, series and level.", []string{"rule", "metric", "level"}, nil)
	c.notifDropped = prometheus.NewDesc("pbatunnel_alert_notifications_dropped_total", "Notifications dropped because a handler's queue was full.", []string{"handler"}, nil)
	c.notifFailed = prometheus.NewDesc("pbatunnel_alert_notifications_failed_total", "Notifications a handler failed to deliver.", []string{"handler"}, nil)
	c.droppedNames = prometheus.NewDesc("pbatunnel_dropped_metric_names_total", "Tool and custom metric names refused because too many were in use.", nil, nil)
	return c
}

func (c *liveCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.opDuration, c.respTokens, c.cacheLookups, c.queries, c.queryTime,
		c.custCounter, c.custGauge, c.appGauge, c.monCPU, c.monMem, c.samples, c.alertsFiring, c.notifDropped, c.notifFailed, c.droppedNames} {
		ch <- d
	}
	c.host.describe(ch)
}

func (c *liveCollector) Collect(ch chan<- prometheus.Metric) {
	// Request latencies come from the hot histograms, per error type and
	// with count, sum and buckets of one moment, which a snapshot does not
	// keep; they are live too.
	for _, h := range c.m.LiveToolHistograms() {
		buckets := make(map[float64]uint64, len(c.upper))
		for i, u := range c.upper {
			buckets[u] = h.Buckets[i]
		}
		ch <- prometheus.MustNewConstHistogram(c.opDuration, h.Count, h.Sum.Seconds(), buckets, h.Method, h.Tool, h.ErrorType)
	}
	for _, h := range c.m.LiveTokenHistograms() {
		buckets := make(map[float64]uint64, len(monitor.TokenBounds))
		var n uint64
		for i, u := range monitor.TokenBounds {
			n += h.Counts[i]
			buckets[u] = n // cumulative, as Prometheus counts
		}
		n += h.Counts[len(monitor.TokenBounds)]
		ch <- prometheus.MustNewConstHistogram(c.respTokens, n, float64(h.Sum), buckets, h.Tool)
	}
	s := c.m.Live(c.ctx)
	if s == nil {
		return // before the first sample
	}
	gauge := func(d *prometheus.Desc, r metric.Reading, labels ...string) {
		if r.OK {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, r.Value, labels...)
		}
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	if s.System != nil {
		c.host.collect(ch, s.System)
	}
	counter(c.cacheLookups, float64(s.CacheHits), "hit")
	counter(c.cacheLookups, float64(s.CacheMisses), "miss")
	counter(c.queries, float64(s.Queries.Count-s.Queries.Errors), "ok")
	counter(c.queries, float64(s.Queries.Errors), "error")
	counter(c.queryTime, s.Queries.Sum.Seconds())
	for name, r := range s.Gauges {
		gauge(c.appGauge, r, name)
	}
	for name, v := range s.Custom.Counters {
		counter(c.custCounter, v, name)
	}
	for name, v := range s.Custom.Gauges {
		ch <- prometheus.MustNewConstMetric(c.custGauge, prometheus.GaugeValue, v, name)
	}
	counter(c.monCPU, s.Overhead.TotalCPU.Seconds())
	ch <- prometheus.MustNewConstMetric(c.monMem, prometheus.GaugeValue, float64(s.Overhead.MemoryBytes))
	counter(c.samples, float64(s.Seq))
	counter(c.droppedNames, float64(s.DroppedNames))
	for _, a := range c.alerts.Active() {
		if a.State == alert.StateFiring {
			ch <- prometheus.MustNewConstMetric(c.alertsFiring, prometheus.GaugeValue, 1, a.Rule, a.Metric, string(a.Level))
		}
	}
	for _, h := range c.alerts.HandlerStats() {
		counter(c.notifDropped, float64(h.Dropped), h.Name)
		counter(c.notifFailed, float64(h.Failed), h.Name)
	}
}

// prometheusHandler serves the exposition format from a registry of its
// own, with the Go runtime and process collectors beside the monitor's,
// reading live until ctx ends.
func prometheusHandler(ctx context.Context, m *monitor.Monitor, e *alert.Engine) (http.Handler, error) {
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		newLiveCollector(ctx, m, e),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}), nil
}
