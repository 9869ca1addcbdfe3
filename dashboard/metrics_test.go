package dashboard

import (
	"bytes"
	"context"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// TestPrometheusExposition parses /metrics with Prometheus' own parser and
// checks the MCP histogram against what was recorded.
func TestPrometheusExposition(t *testing.T) {
	m, base := startTest(t, Options{})
	m.RecordToolCall("code_analysis", 3*time.Second, "tool_error")
	m.RecordToolCall("enhanced_memory", 5*time.Millisecond, "")
	m.RecordCacheLookup(true)
	m.Sample(context.Background())

	res, body := get(t, base+"/metrics")
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("Prometheus cannot parse /metrics: %v", err)
	}
	h := fams["mcp_server_operation_duration_seconds"]
	if h == nil || h.GetType() != dto.MetricType_HISTOGRAM {
		t.Fatalf("no histogram family: %v", h)
	}
	type key struct{ tool, errType string }
	got := map[key]*dto.Histogram{}
	for _, mt := range h.GetMetric() {
		var k key
		method := ""
		for _, l := range mt.GetLabel() {
			switch l.GetName() {
			case "gen_ai_tool_name":
				k.tool = l.GetValue()
			case "error_type":
				k.errType = l.GetValue()
			case "mcp_method_name":
				method = l.GetValue()
			}
		}
		if method != "tools/call" {
			t.Errorf("mcp_method_name %q", method)
		}
		got[k] = mt.GetHistogram()
	}
	// From startTest: enhanced_memory 23 ms ok, code_analysis 150 ms failed
	// (default error type); here: code_analysis 3 s tool_error, enhanced_memory 5 ms ok.
	tests := []struct {
		k          key
		count      uint64
		sum        float64
		le, cumAtL float64
	}{
		{key{"enhanced_memory", ""}, 2, 0.028, 0.02, 1},
		{key{"code_analysis", monitor.ErrorTypeDefault}, 1, 0.150, 0.2, 1},
		{key{"code_analysis", "tool_error"}, 1, 3, 2, 0},
	}
	for _, tt := range tests {
		hist := got[tt.k]
		if hist == nil {
			t.Errorf("no series for %+v", tt.k)
			continue
		}
		if hist.GetSampleCount() != tt.count || abs(hist.GetSampleSum()-tt.sum) > 1e-9 {
			t.Errorf("%+v: count %d sum %v, want %d %v", tt.k, hist.GetSampleCount(), hist.GetSampleSum(), tt.count, tt.sum)
		}
		found := false
		for _, b := range hist.GetBucket() {
			// Bounds are the exact ones just at or above the recommended.
			if b.GetUpperBound() >= tt.le && b.GetUpperBound() < tt.le*1.07 {
				found = true
				if float64(b.GetCumulativeCount()) != tt.cumAtL {
					t.Errorf("%+v: bucket le=%v has %d, want %v", tt.k, b.GetUpperBound(), b.GetCumulativeCount(), tt.cumAtL)
				}
			}
		}
		if !found {
			t.Errorf("%+v: no bucket near %v", tt.k, tt.le)
		}
	}
	for _, name := range []string{"pbatunnel_cache_lookups_total", "pbatunnel_monitor_cpu_seconds_total", "pbatunnel_monitor_samples_total", "go_goroutines"} {
		if fams[name] == nil {
			t.Errorf("no %s", name)
		}
	}
	// System collection is off in this test: its figures are absent, not 0.
	if fams["pbatunnel_system"] != nil {
		t.Errorf("unavailable system figures exported: %v", fams["pbatunnel_system"])
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
