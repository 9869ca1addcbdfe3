package dashboard

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
	"github.com/mcp-pba-tunnel/pbatunnel/report"
)

// api serves the JSON routes. Every read works from the latest snapshot and
// the history, never from the recording hot path; the report's forms come
// from one cached report (reportCache), so that they agree.
type api struct {
	m      *monitor.Monitor
	opts   Options
	prom   http.Handler // the exposition format, shared with /metrics
	report *reportCache
}

// metrics serves GET /api/metrics?format=json|text|prometheus.
func (a *api) metrics(w http.ResponseWriter, r *http.Request) {
	if !checkParams(w, r, "format") {
		return
	}
	f, ok := singleParam(w, r.URL.Query(), "format")
	if !ok {
		return
	}
	switch f {
	case "", "json":
		writeRaw(w, http.StatusOK, a.report.latest().json)
	case "text":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(a.report.latest().text())
	case "prometheus":
		a.prom.ServeHTTP(w, r)
	default:
		writeError(w, http.StatusBadRequest, "unknown format "+quote(f)+"; use json, text or prometheus")
	}
}

// health serves GET /api/health: 200 when healthy or warning, 503 when
// critical, so that it works as a probe.
func (a *api) health(w http.ResponseWriter, r *http.Request) {
	if !checkParams(w, r) {
		return
	}
	h := report.HealthOf(a.m.Latest(), a.opts.Alerts.Active())
	writeJSON(w, h.HTTPStatus(), h)
}

// tools serves GET /api/tools: tool_metrics of the report, by tool name.
func (a *api) tools(w http.ResponseWriter, r *http.Request) {
	if !checkParams(w, r) {
		return
	}
	writeRaw(w, http.StatusOK, a.report.latest().tools)
}

// alertsResponse is GET /api/alerts.
type alertsResponse struct {
	// Active are the pending and firing alerts, most severe first, and
	// rules whose metric cannot be measured.
	Active []alert.Status `json:"active"`
	// History is the retained transitions, newest first.
	History  []alert.Alert        `json:"history"`
	Handlers []alert.HandlerStats `json:"handlers"`
	Rules    int                  `json:"rules"`
}

func (a *api) alerts(w http.ResponseWriter, r *http.Request) {
	if !checkParams(w, r) {
		return
	}
	e := a.opts.Alerts
	h := e.History()
	slices.Reverse(h)
	res := alertsResponse{
		Active:   e.Active(),
		History:  h,
		Handlers: e.HandlerStats(),
		Rules:    len(e.Rules()),
	}
	if res.Active == nil {
		res.Active = []alert.Status{}
	}
	if res.History == nil {
		res.History = []alert.Alert{}
	}
	if res.Handlers == nil {
		res.Handlers = []alert.HandlerStats{}
	}
	writeJSON(w, http.StatusOK, res)
}

// maxHistoryMetrics bounds the series one /api/history request may ask for.
const maxHistoryMetrics = 16

// historyResponse is GET /api/history, in the column layout charting
// libraries take: Times[i] is the time of Values[k][i] for every metric k.
type historyResponse struct {
	Metrics []string `json:"metrics"`
	Since   string   `json:"since"`
	// Times are Unix seconds with millisecond precision.
	Times []float64 `json:"times"`
	// Values has one column per metric; null where the value was not
	// measured at that sample.
	Values [][]*float64 `json:"values"`
	// Unavailable gives, per metric, why its latest missing value is missing.
	Unavailable map[string]string `json:"unavailable,omitempty"`
}

// history serves GET /api/history?metric=NAME[&metric=NAME…][&since=DURATION].
func (a *api) history(w http.ResponseWriter, r *http.Request) {
	if !checkParams(w, r, "metric", "since") {
		return
	}
	q := r.URL.Query()
	metrics := q["metric"]
	if len(metrics) == 0 {
		writeError(w, http.StatusBadRequest, "metric is required, e.g. ?metric=cpu_usage_percent&since=15m")
		return
	}
	if len(metrics) > maxHistoryMetrics {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("at most %d metrics per request, got %d", maxHistoryMetrics, len(metrics)))
		return
	}
	latest := a.m.Latest()
	for _, name := range metrics {
		if !a.seriesExists(latest, name) {
			writeError(w, http.StatusBadRequest, "unknown metric "+quote(name)+"; see /api/metrics for the series names")
			return
		}
	}
	since, ok := singleParam(w, q, "since")
	if !ok {
		return
	}
	span := 15 * time.Minute
	if since != "" {
		d, err := time.ParseDuration(since)
		if err != nil || d <= 0 || d > MaxHistorySpan {
			writeError(w, http.StatusBadRequest, "since must be a positive duration up to "+MaxHistorySpan.String()+", such as 15m or 2h; got "+quote(since))
			return
		}
		span = d
	}
	now := time.Now()
	if latest != nil {
		now = latest.Time
	}
	snaps := a.m.Since(now.Add(-span))
	res := historyResponse{
		Metrics: metrics,
		Since:   now.Add(-span).UTC().Format(monitor.TimeFormat),
		Times:   make([]float64, len(snaps)),
		Values:  make([][]*float64, len(metrics)),
	}
	for k := range res.Values {
		res.Values[k] = make([]*float64, len(snaps))
	}
	want := make(map[string]int, len(metrics))
	for k, name := range metrics {
		want[name] = k
	}
	for i, s := range snaps {
		res.Times[i] = float64(s.Time.UnixMilli()) / 1000
		s.EachSeries(func(name string, v metric.Reading) {
			k, ok := want[name]
			if !ok {
				return
			}
			if v.OK {
				res.Values[k][i] = v.Ptr()
				return
			}
			if res.Unavailable == nil {
				res.Unavailable = map[string]string{}
			}
			res.Unavailable[name] = v.Reason
		})
	}
	writeJSON(w, http.StatusOK, res)
}

// seriesExists accepts any series the latest snapshot has and any name a
// monitor can have (a tool not called yet simply has no points).
func (a *api) seriesExists(latest *monitor.Snapshot, name string) bool {
	if latest != nil {
		if _, ok := latest.Series(name); ok {
			return true
		}
	}
	return monitor.KnownSeries(name) && !strings.Contains(name, "*")
}

// configResponse is GET /api/config.
type configResponse struct {
	Monitor    monitorConfig              `json:"monitor"`
	Thresholds map[string]alert.Threshold `json:"thresholds"`
	Rules      []alert.Rule               `json:"rules"`
	Handlers   []string                   `json:"alert_handlers"`
	Dashboard  dashboardConfig            `json:"dashboard"`
	// Config is the effective configuration file content, secrets redacted.
	Config any `json:"config,omitempty"`
}

type monitorConfig struct {
	IntervalSeconds       float64 `json:"interval_seconds"`
	RetentionMaxSamples   int     `json:"retention_max_samples"`
	RetentionMaxAgeHours  float64 `json:"retention_max_age_hours"`
	RecentWindowSeconds   float64 `json:"recent_window_seconds"`
	TrendWindowSeconds    float64 `json:"trend_window_seconds"`
	CallRing              int     `json:"call_ring"`
	PercentileRelativeErr float64 `json:"percentile_relative_error"`
}

type dashboardConfig struct {
	Addr                string  `json:"addr"`
	Auth                bool    `json:"auth"`
	PollIntervalSeconds float64 `json:"poll_interval_seconds"`
}

func (a *api) config(w http.ResponseWriter, r *http.Request) {
	if !checkParams(w, r) {
		return
	}
	o := a.m.Options()
	rules := a.opts.Alerts.Rules()
	res := configResponse{
		Monitor: monitorConfig{
			IntervalSeconds:       o.Interval.Seconds(),
			RetentionMaxSamples:   o.MaxSamples,
			RetentionMaxAgeHours:  o.MaxAge.Hours(),
			RecentWindowSeconds:   o.RecentWindow.Seconds(),
			TrendWindowSeconds:    o.TrendWindow.Seconds(),
			CallRing:              max(o.CallRing, 0), // negative keeps none
			PercentileRelativeErr: monitor.PercentileRelativeError,
		},
		Thresholds: alert.ThresholdsOf(rules),
		Rules:      rules,
		Handlers:   []string{},
		Dashboard: dashboardConfig{
			Addr:                a.opts.Addr,
			Auth:                a.opts.AuthToken != "",
			PollIntervalSeconds: a.opts.PollInterval.Seconds(),
		},
	}
	for _, h := range a.opts.Alerts.HandlerStats() {
		res.Handlers = append(res.Handlers, h.Name)
	}
	if a.opts.Config != nil {
		res.Config = a.opts.Config()
	}
	writeJSON(w, http.StatusOK, res)
}
