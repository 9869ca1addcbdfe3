package report

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

func TestReportBeforeFirstSample(t *testing.T) {
	m, _ := newTestMonitor(monitor.Options{})
	m.RecordToolUsage("enhanced_memory", time.Millisecond, true)
	r := Latest(m)
	if r.Status != StatusNoData || !strings.Contains(r.Message, "no sample taken yet") {
		t.Errorf("status %q message %q", r.Status, r.Message)
	}
	if r.SystemOverview != nil {
		t.Errorf("overview before the first sample: %+v", r.SystemOverview)
	}
	if txt := r.Text(); !strings.Contains(txt, "no sample taken yet") || strings.Contains(txt, "0.00") {
		t.Errorf("text report before the first sample:\n%s", txt)
	}
}

// TestReportJSONKeys checks every key DESIGN.md §2 promises for
// /api/metrics?format=json.
func TestReportJSONKeys(t *testing.T) {
	m, clock := newTestMonitor(monitor.Options{})
	m.Sample(t.Context())
	clock.Advance(30 * time.Second)
	m.RecordToolUsage("enhanced_memory", 23500*time.Microsecond, true)
	m.RecordToolUsage("code_analysis", 156700*time.Microsecond, false)
	m.Sample(t.Context())

	b, err := Latest(m).JSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	obj := func(v any, path string) map[string]any {
		o, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s is %T, want an object in\n%s", path, v, b)
		}
		return o
	}
	require := func(o map[string]any, path string, keys ...string) {
		for _, k := range keys {
			if _, ok := o[k]; !ok {
				t.Errorf("%s.%s missing", path, k)
			}
		}
	}
	ov := obj(doc["system_overview"], "system_overview")
	require(ov, "system_overview", "memory_usage_percent", "cpu_usage_percent", "memory_entries_count",
		"relationship_count", "cache_hit_rate_percent", "average_query_time_ms", "active_connections",
		"error_rate_percent", "throughput_operations_per_second")
	require(doc, "", "trends", "tool_metrics", "monitoring_info")
	tools := obj(doc["tool_metrics"], "tool_metrics")
	for _, name := range []string{"enhanced_memory", "code_analysis"} {
		require(obj(tools[name], name), "tool_metrics."+name, "call_count", "average_response_time", "success_rate", "error_count", "last_used")
	}
	require(obj(doc["monitoring_info"], "monitoring_info"), "monitoring_info", "metrics_count", "monitoring_duration_minutes", "last_update")

	em := obj(tools["enhanced_memory"], "enhanced_memory")
	if em["average_response_time"] != 23.5 || em["success_rate"] != 100.0 {
		t.Errorf("enhanced_memory = %v", em)
	}
	if lu, _ := em["last_used"].(string); func() error { _, err := time.Parse(time.RFC3339, lu); return err }() != nil {
		t.Errorf("last_used %q is not RFC 3339", lu)
	}
	if d := obj(doc["monitoring_info"], "")["monitoring_duration_minutes"]; d != 0.5 {
		t.Errorf("monitoring_duration_minutes = %v, want 0.5 from the sample times", d)
	}
	// Without host collection, CPU is unavailable: null with a reason, never 0.
	if ov["cpu_usage_percent"] != nil {
		t.Errorf("cpu_usage_percent = %v, want null", ov["cpu_usage_percent"])
	}
	if reason := obj(ov["unavailable"], "unavailable")["cpu_usage_percent"]; reason != "system collection is disabled" {
		t.Errorf("unavailable reason %q", reason)
	}
}

func TestReportText(t *testing.T) {
	m, clock := newTestMonitor(monitor.Options{})
	m.Sample(t.Context())
	clock.Advance(10 * time.Second)
	m.RecordToolUsage("enhanced_memory", 20*time.Millisecond, true)
	m.ObserveQuery(3*time.Millisecond, nil)
	for name, v := range map[string]float64{monitor.GaugeMemoryEntries: 2051, monitor.GaugeRelationships: 12, monitor.GaugeActiveConnections: 0} {
		if err := m.RegisterGauge(name, func() (float64, error) { return v, nil }); err != nil {
			t.Fatal(err)
		}
	}
	m.Counter("requests").Add(1234567)
	m.Sample(t.Context())
	txt := Latest(m).Text()
	for _, want := range []string{"enhanced_memory", "Throughput", "0.10 ops/s", "queries           1", "n/a (system collection is disabled)",
		// Counts are integers.
		"Memory entries         2051\n", "Relationships          12\n", "Active connections     0\n", "requests                 1234567 (counter)"} {
		if !strings.Contains(txt, want) {
			t.Errorf("text report lacks %q:\n%s", want, txt)
		}
	}
}

// A report says which of the two it is, in its JSON and its text: the
// report of the latest sample, which every sampled reader shares, or a
// live one (performance_report, Monitor.Live), which counts calls the
// latest sample has not seen.
func TestReportSaysWhichItIs(t *testing.T) {
	m, clock := newTestMonitor(monitor.Options{})
	m.Sample(t.Context())
	clock.Advance(10 * time.Second)
	m.RecordToolUsage("enhanced_memory", 20*time.Millisecond, true)
	tests := []struct {
		name   string
		report *Report
		live   bool
		calls  uint64 // enhanced_memory's, as the report counts them
	}{
		{"latest sample", Latest(m), false, 0},
		{"live", Of(m.Live(t.Context()), m.History(), m.Options()), true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.report)
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				MonitoringInfo map[string]any `json:"monitoring_info"`
			}
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			if live, ok := doc.MonitoringInfo["live"]; !ok || live != tt.live {
				t.Errorf("monitoring_info.live = %v (present %v), want %v written out", live, ok, tt.live)
			}
			if got := tt.report.ToolMetrics["enhanced_memory"].CallCount; got != tt.calls {
				t.Errorf("enhanced_memory counted %d times, want %d", got, tt.calls)
			}
			if said := strings.Contains(tt.report.Text(), "\nlive: "); said != tt.live {
				t.Errorf("text says live: %v, want %v:\n%s", said, tt.live, tt.report.Text())
			}
		})
	}
}
