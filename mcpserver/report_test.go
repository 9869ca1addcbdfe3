package mcpserver_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-pba-tunnel/pbatunnel/mcpserver"
)

// performance_report takes a section by its short name, by the report's
// key as the guide names it, or by an alias, and returns that part.
func TestPerformanceReportSections(t *testing.T) {
	e := newEnv(t)
	e.call(t, "enhanced_memory", map[string]any{"operation": "store", "content": "x"})
	e.m.Sample(t.Context())
	tests := []struct {
		section string
		keys    []string // the keys of the structured result
	}{
		{"", []string{"system_overview", "tool_metrics", "trends", "monitoring_info"}},
		{"overview", []string{"status", "system_overview", "monitoring_info"}},
		{"tools", []string{"tool_metrics"}},
		{"system", []string{"system", "application"}},
		{"health", []string{"status", "issues", "metrics_summary"}},
		// The report's own keys.
		{"system_overview", []string{"status", "system_overview"}},
		{"tool_metrics", []string{"tool_metrics"}},
		{"method_metrics", []string{"method_metrics"}},
		{"trends", []string{"trends"}},
		{"monitoring_info", []string{"monitoring_info"}},
		{"performance", []string{"performance"}},
		{"custom_metrics", []string{"custom_metrics"}},
		{"self_overhead", []string{"self_overhead"}},
		{"application", []string{"application"}},
		{"processes", []string{"processes"}},
		{"System_Overview", []string{"status", "system_overview"}}, // case does not matter
	}
	for _, tt := range tests {
		t.Run(tt.section, func(t *testing.T) {
			r := e.call(t, mcpserver.ToolPerformanceReport, map[string]any{"section": tt.section})
			if r.IsError {
				t.Fatalf("isError: %s", text(r))
			}
			got := structured(t, r)
			for _, k := range tt.keys {
				if _, ok := got[k]; !ok {
					t.Errorf("result lacks %q: has %v", k, keys(got))
				}
			}
		})
	}
	r := e.call(t, mcpserver.ToolPerformanceReport, map[string]any{"section": "nope"})
	if !r.IsError || !containsAll(text(r), "system_overview", "tool_metrics", "monitoring_info") {
		t.Errorf("unknown section: isError %v, %q; want an error listing the report's keys", r.IsError, text(r))
	}
}

func containsAll(s string, parts ...string) bool {
	return !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(s, p) })
}

// performance_report is live, and says so: the call an agent just made is
// in it although no sample has been taken since, the report carries
// monitoring_info.live, and the tool's description tells an agent before
// it asks.
func TestPerformanceReportIsLive(t *testing.T) {
	e := newEnv(t)
	e.m.Sample(t.Context())
	e.call(t, "enhanced_memory", map[string]any{"operation": "store", "content": "x"})

	got := structured(t, e.call(t, mcpserver.ToolPerformanceReport, map[string]any{}))
	var r struct {
		ToolMetrics map[string]struct {
			CallCount uint64 `json:"call_count"`
		} `json:"tool_metrics"`
		MonitoringInfo struct {
			Live *bool `json:"live"`
		} `json:"monitoring_info"`
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if n := r.ToolMetrics["enhanced_memory"].CallCount; n != 1 {
		t.Errorf("enhanced_memory call_count %d, want the call just made", n)
	}
	if r.MonitoringInfo.Live == nil || !*r.MonitoringInfo.Live {
		t.Errorf("monitoring_info.live %v, want true", r.MonitoringInfo.Live)
	}
	if txt := text(e.call(t, mcpserver.ToolPerformanceReport, map[string]any{"format": "text"})); !strings.Contains(txt, "\nlive: ") {
		t.Errorf("text report does not say it is live:\n%s", txt)
	}

	tools, err := e.client.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range tools.Tools {
		if tool.Name == mcpserver.ToolPerformanceReport && !containsAll(tool.Description, "Live", "monitoring_info.live", "latest sample") {
			t.Errorf("description %q does not say what is live and what is of the latest sample", tool.Description)
		}
	}
}
