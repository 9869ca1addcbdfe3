package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/report"
)

// ToolPerformanceReport is the tool that returns the monitor's report.
const ToolPerformanceReport = "performance_report"

// A reportSection is a part of the report performance_report can return
// alone, as a JSON object.
type reportSection struct {
	name string
	part func(src source, r *report.Report) any
}

// source is what the report tool reads: the monitor, and the engine
// judging it (nil: no rules).
type source struct {
	m      *monitor.Monitor
	alerts *alert.Engine
}

// reportSections are the sections by their short names, then by the
// report's own keys, as the guide and /api/metrics name them
// (system_overview, monitoring_info, …): an agent that read either may ask
// for the part it saw. A key returns that key; where a short name returns
// the same part, the key is an alias of it (sectionAliases).
var reportSections = []reportSection{
	{"all", func(_ source, r *report.Report) any { return r }},
	{"overview", func(_ source, r *report.Report) any {
		return map[string]any{"status": r.Status, "message": r.Message, "system_overview": r.SystemOverview, "monitoring_info": r.MonitoringInfo}
	}},
	{"tools", func(_ source, r *report.Report) any {
		return map[string]any{"tool_metrics": r.ToolMetrics}
	}},
	{"methods", func(_ source, r *report.Report) any {
		return map[string]any{"method_metrics": r.MethodMetrics}
	}},
	{"performance", func(_ source, r *report.Report) any {
		return map[string]any{"performance": r.Performance}
	}},
	{"system", func(_ source, r *report.Report) any {
		return map[string]any{"system": r.System, "application": r.Application}
	}},
	{"trends", func(_ source, r *report.Report) any { return map[string]any{"trends": r.Trends} }},
	{"custom", func(_ source, r *report.Report) any {
		return map[string]any{"custom_metrics": r.CustomMetrics}
	}},
	{"overhead", func(_ source, r *report.Report) any {
		return map[string]any{"self_overhead": r.SelfOverhead}
	}},
	{"alerts", func(src source, _ *report.Report) any {
		active := src.alerts.Active()
		if active == nil {
			active = []alert.Status{}
		}
		return map[string]any{"active": active, "recent": lastAlerts(src.alerts.History(), 20)}
	}},
	{"health", func(src source, _ *report.Report) any {
		return report.HealthOf(src.m.Latest(), src.alerts.Active())
	}},

	// With the status and message, which say why it is null before the
	// first sample.
	{"system_overview", func(_ source, r *report.Report) any {
		return map[string]any{"status": r.Status, "message": r.Message, "system_overview": r.SystemOverview}
	}},
	{"application", func(_ source, r *report.Report) any {
		return map[string]any{"application": r.Application}
	}},
	{"processes", func(_ source, r *report.Report) any {
		return map[string]any{"processes": r.Processes}
	}},
	{"monitoring_info", func(_ source, r *report.Report) any {
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

func addReportTool(s *mcp.Server, src source) {
	m := src.m
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
		out, err := sectionJSON(src, liveReport(ctx, m), sec)
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
func liveReport(ctx context.Context, m *monitor.Monitor) *report.Report {
	if s := m.Live(ctx); s != nil {
		return report.For(m, s)
	}
	return report.Latest(m)
}

// sectionJSON returns one section of r as a JSON object.
func sectionJSON(src source, r *report.Report, sec reportSection) (map[string]any, error) {
	v := sec.part(src, r)
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

func lastAlerts(h []alert.Alert, n int) []alert.Alert {
	if len(h) > n {
		h = h[len(h)-n:]
	}
	return h
}

func ptr[T any](v T) *T { return &v }
