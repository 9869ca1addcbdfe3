package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// ToolPerformanceReport is the tool that returns the monitor's report.
const ToolPerformanceReport = "performance_report"

// A reportSection is a part of the report performance_report can return
// alone, as a JSON object.
type reportSection struct {
	name string
	part func(m *monitor.Monitor, r *monitor.PerformanceReport) any
}

// reportSections are the sections by their short names, then by the
// report's own keys, as the guide and /api/metrics name them
// (system_overview, monitoring_info, …): an agent that read either may ask
// for the part it saw. A key returns that key; where a short name returns
// the same part, the key is an alias of it (sectionAliases).
var reportSections = []reportSection{
	{"all", func(_ *monitor.Monitor, r *monitor.PerformanceReport) any { return r }},
	{"overview", func(_ *monitor.Monitor, r *monitor.PerformanceReport) any {
		return map[string]any{"status": r.Status, "message": r.Message, "system_overview": r.SystemOverview, "monitoring_info": r.MonitoringInfo}
	}},
	{"tools", func(_ *monitor.Monitor, r *monitor.PerformanceReport) any {
		return map[string]any{"tool_metrics": r.ToolMetrics}
	}},
	{"methods", func(_ *monitor.Monitor, r *monitor.PerformanceReport) any {
		return map[string]any{"method_metrics": r.MethodMetrics}
	}},
	{"performance", func(_ *monitor.Monitor, r *monitor.PerformanceReport) any {
		return map[string]any{"performance": r.Performance}
	}},
	{"system", func(_ *monitor.Monitor, r *monitor.PerformanceReport) any {
		return map[string]any{"system": r.System, "application": r.Application}
	}},
	{"trends", func(_ *monitor.Monitor, r *monitor.PerformanceReport) any { return map[string]any{"trends": r.Trends} }},
	{"custom", func(_ *monitor.Monitor, r *monitor.PerformanceReport) any {
		return map[string]any{"custom_metrics": r.CustomMetrics}
	}},
	{"overhead", func(_ *monitor.Monitor, r *monitor.PerformanceReport) any {
		return map[string]any{"self_overhead": r.SelfOverhead}
	}},
	{"alerts", func(m *monitor.Monitor, _ *monitor.PerformanceReport) any {
		return map[string]any{"active": m.Alerts(), "recent": lastAlerts(m.AlertHistory(), 20)}
	}},
	{"health", func(m *monitor.Monitor, _ *monitor.PerformanceReport) any { return m.Health() }},

	// With the status and message, which say why it is null before the
	// first sample.
	{"system_overview", func(_ *monitor.Monitor, r *monitor.PerformanceReport) any {
		return map[string]any{"status": r.Status, "message": r.Message, "system_overview": r.SystemOverview}
	}},
	{"application", func(_ *monitor.Monitor, r *monitor.PerformanceReport) any {
		return map[string]any{"application": r.Application}
	}},
	{"processes", func(_ *monitor.Monitor, r *monitor.PerformanceReport) any {
		return map[string]any{"processes": r.Processes}
	}},
	{"monitoring_info", func(_ *monitor.Monitor, r *monitor.PerformanceReport) any {
		return map[string]any{"monitoring_info": r.MonitoringInfo}
	}},
}

// sectionAliases are the report's keys that a short name already returns.
var sectionAliases = map[string]string{
	"tool_metrics":   "tools",
	"method_metrics": "methods",
	"custom_metrics": "custom",
	"self_overhead":  "overhead",
}

// findSection returns the section called name, or its alias.
func findSection(name string) (reportSection, bool) {
	if to, ok := sectionAliases[name]; ok {
		name = to
	}
	i := slices.IndexFunc(reportSections, func(s reportSection) bool { return s.name == name })
	if i < 0 {
		return reportSection{}, false
	}
	return reportSections[i], true
}

// sectionNames lists the sections and aliases for messages.
func sectionNames() string {
	var names []string
	for _, s := range reportSections {
		names = append(names, s.name)
	}
	names = append(names, slices.Sorted(maps.Keys(sectionAliases))...)
	return strings.Join(names, ", ")
}

// ReportInput is performance_report's arguments.
type ReportInput struct {
	Section string `json:"section,omitempty" jsonschema:"which part to return: all (default), overview, tools, methods, performance, system, trends, custom, overhead, alerts or health; or a key of the full report (system_overview, tool_metrics, method_metrics, custom_metrics, self_overhead, application, processes, monitoring_info), which returns that key"`
	Format  string `json:"format,omitempty" jsonschema:"json (default: structured data) or text (a plain-text report, only with section all)"`
}

func addReportTool(s *mcp.Server, m *monitor.Monitor) {
	mcp.AddTool(s, &mcp.Tool{
		Name:  ToolPerformanceReport,
		Title: "Performance report",
		Description: "How this server is doing, measured: CPU and memory, tool call counts, latency percentiles and error rates, " +
			"method counts, " +
			"cache hit rate, store query times, trends and firing alerts. Use section to get one part; figures that cannot be " +
			"measured are null with the reason under 'unavailable'. Live: counts, latencies and store figures include every " +
			"call finished before this one (monitoring_info.live is true); host figures, trends and alerts are those of the " +
			"latest sample, taken every monitoring interval.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: ptr(false)},
	}, func(ctx context.Context, _ *mcp.CallToolRequest, in ReportInput) (*mcp.CallToolResult, any, error) {
		section := strings.ToLower(strings.TrimSpace(in.Section))
		if section == "" {
			section = "all"
		}
		format := strings.ToLower(strings.TrimSpace(in.Format))
		switch format {
		case "", "json":
		case "text":
			if section != "all" {
				return nil, nil, fmt.Errorf("format text is only available for section all; use format json for section %q", section)
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: liveReport(ctx, m).Text()}}}, nil, nil
		default:
			return nil, nil, fmt.Errorf("unknown format %q: use json or text", in.Format)
		}
		sec, ok := findSection(section)
		if !ok {
			return nil, nil, fmt.Errorf("unknown section %q: use one of %s", in.Section, sectionNames())
		}
		out, err := sectionJSON(m, liveReport(ctx, m), sec)
		if err != nil {
			return nil, nil, err
		}
		return nil, out, nil
	})
}

// liveReport is the monitor's report of the counters up to now (a live
// snapshot over the latest sample), so that an agent sees the calls it just
// made, where the dashboard's sampled readers would show them only after
// the next sample; before the first sample, the plain report that says so.
func liveReport(ctx context.Context, m *monitor.Monitor) *monitor.PerformanceReport {
	if s := m.Live(ctx); s != nil {
		return m.ReportOf(s)
	}
	return m.Report()
}

// sectionJSON returns one section of r as a JSON object.
func sectionJSON(m *monitor.Monitor, r *monitor.PerformanceReport, sec reportSection) (map[string]any, error) {
	v := sec.part(m, r)
	// Structured content must be an object; round-trip through JSON so the
	// result holds exactly what the HTTP API would send.
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding report: %w", err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("encoding report: %w", err)
	}
	return out, nil
}

func lastAlerts(h []monitor.Alert, n int) []monitor.Alert {
	if len(h) > n {
		h = h[len(h)-n:]
	}
	return h
}

func ptr[T any](v T) *T { return &v }
