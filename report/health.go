package report

import (
	"fmt"
	"net/http"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// Health statuses.
const (
	HealthHealthy  = "healthy"
	HealthWarning  = "warning"
	HealthCritical = "critical"
)

// Health is the answer of GET /api/health: the worst firing alert's level,
// one line per firing warning or critical alert, and the headline figures
// as strings such as "45.2%".
type Health struct {
	Status         string            `json:"status"`
	Issues         []string          `json:"issues"`
	MetricsSummary map[string]string `json:"metrics_summary"`
	// LastUpdate is the time of the sample the summary comes from.
	LastUpdate string `json:"last_update,omitempty"`
}

// HTTPStatus is 503 when critical, so the endpoint works as a probe, and
// 200 otherwise.
func (h Health) HTTPStatus() int {
	if h.Status == HealthCritical {
		return http.StatusServiceUnavailable
	}
	return http.StatusOK
}

// HealthOf is the health as of snapshot s (nil: no sample yet), judged by
// the alerts active (alert.Engine.Active; nil when no engine judges the
// monitor). Informational alerts do not degrade it.
func HealthOf(s *monitor.Snapshot, active []alert.Status) Health {
	h := Health{Status: HealthHealthy, Issues: []string{}}
	worst := alert.LevelNone
	for _, a := range active {
		if a.State != alert.StateFiring || a.Level.Rank() < alert.LevelWarning.Rank() {
			continue
		}
		if a.Level.Rank() > worst.Rank() {
			worst = a.Level
		}
		h.Issues = append(h.Issues, fmt.Sprintf("%s %s: %s is %s, %s the %s threshold %v",
			a.Level, a.Rule, a.Metric, a.Value, a.Direction, a.Level, a.Threshold))
	}
	switch worst {
	case alert.LevelCritical:
		h.Status = HealthCritical
	case alert.LevelWarning:
		h.Status = HealthWarning
	}
	pct := func(r metric.Reading) string {
		if r.OK {
			return fmt.Sprintf("%.1f%%", r.Value)
		}
		return "n/a (" + r.Reason + ")"
	}
	if s == nil {
		none := "n/a (no sample taken yet)"
		h.MetricsSummary = map[string]string{"memory_usage": none, "cpu_usage": none, "cache_hit_rate": none, "error_rate": none}
		return h
	}
	h.LastUpdate = s.Time.UTC().Format(monitor.TimeFormat)
	h.MetricsSummary = map[string]string{
		"memory_usage":   pct(s.MemoryPercent()),
		"cpu_usage":      pct(s.CPUPercent()),
		"cache_hit_rate": pct(s.Rates.CacheHitRate.LastMinute),
		"error_rate":     pct(s.Rates.ErrorRate.LastMinute),
	}
	return h
}
