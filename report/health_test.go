package report_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/report"
)

// TestHealthFollowsFiringAlerts drives a rule through warning, critical
// and resolved: the health is as bad as the worst firing alert, with one
// issue line per alert, and 503 only while something is critical.
func TestHealthFollowsFiringAlerts(t *testing.T) {
	ctx := context.Background()
	clock := testenv.NewClock()
	m := monitor.New(monitor.Options{Now: clock.Now, DisableSystem: true})
	e := alert.New(m, alert.Options{NoDefaultRules: true})
	depth := m.Gauge("queue_depth")
	if err := e.AddRule(alert.Rule{Name: "queue", Metric: "custom.queue_depth", Warning: alert.Ptr(100), Critical: alert.Ptr(500)}); err != nil {
		t.Fatal(err)
	}
	if h := report.HealthOf(nil, nil); h.Status != report.HealthHealthy || h.MetricsSummary["cpu_usage"] != "n/a (no sample taken yet)" {
		t.Errorf("health before the first sample: %+v", h)
	}
	tests := []struct {
		depth  float64
		status string
		code   int
		issue  string
	}{
		{10, report.HealthHealthy, http.StatusOK, ""},
		{150, report.HealthWarning, http.StatusOK, "warning queue: custom.queue_depth is 150.00, above the warning threshold 100"},
		{600, report.HealthCritical, http.StatusServiceUnavailable, "critical queue: custom.queue_depth is 600.00, above the critical threshold 500"},
		{10, report.HealthHealthy, http.StatusOK, ""},
	}
	for _, tt := range tests {
		depth.Set(tt.depth)
		s := m.Sample(ctx)
		h := report.HealthOf(s, e.Active())
		if h.Status != tt.status || h.HTTPStatus() != tt.code {
			t.Errorf("depth %v: health %s (HTTP %d), want %s (%d)", tt.depth, h.Status, h.HTTPStatus(), tt.status, tt.code)
		}
		if got := strings.Join(h.Issues, "; "); got != tt.issue {
			t.Errorf("depth %v: issues %q, want %q", tt.depth, got, tt.issue)
		}
		if h.LastUpdate != s.Time.UTC().Format(monitor.TimeFormat) {
			t.Errorf("depth %v: last update %q, want the sample's time", tt.depth, h.LastUpdate)
		}
		clock.Advance(10 * time.Second)
	}
}
