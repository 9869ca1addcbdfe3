package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// ToolPerformanceReport is the tool that returns the monitor's report.
const ToolPerformanceReport = "performance_report"

// reportSections are the sections performance_report can return alone.
var reportSections = []string{"all", "overview", "tools", "methods", "performance", "system", "trends", "custom", "overhead", "alerts", "health"}

// ReportInput is performance_report's arguments.
type ReportInput struct {
	Section string `json:"section,omitempty" jsonschema:"which part to return: all (default), overview, tools, methods, performance, system, trends, custom, overhead, alerts or health"`
	Format  string `json:"format,omitempty" jsonschema:"json (default: structured data) or text (a plain-text report, only with section all)"`
}

func addReportTool(s *mcp.Server, m *monitor.Monitor) {
	mcp.AddTool(s, &mcp.Tool{
		Name:  ToolPerformanceReport,
		Title: "Performance report",
		Description: "How this server is doing, measured: CPU and memory, tool call counts, latency percentiles and error rates, " +
			"method counts, " +
			"cache hit rate, store query times, trends and firing alerts. Use section to get one part; figures that cannot be " +
			"measured are null with the reason under 'unavailable'.",
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
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: report(ctx, m).Text()}}}, nil, nil
		default:
			return nil, nil, fmt.Errorf("unknown format %q: use json or text", in.Format)
		}
		if !slices.Contains(reportSections, section) {
			return nil, nil, fmt.Errorf("unknown section %q: use one of %s", section, strings.Join(reportSections, ", "))
		}
		out, err := reportSection(ctx, m, section)
		if err != nil {
			return nil, nil, err
		}
		return nil, out, nil
	})
}

// report is the monitor's report of the counters up to now (a live
// snapshot over the latest sample), so that an agent sees the calls it just
// made; before the first sample, the plain report that says so.
func report(ctx context.Context, m *monitor.Monitor) *monitor.PerformanceReport {
	if s := m.Live(ctx); s != nil {
		return m.ReportOf(s)
	}
	return m.Report()
}

// reportSection returns one section of the report as a JSON object.
func reportSection(ctx context.Context, m *monitor.Monitor, section string) (map[string]any, error) {
	r := report(ctx, m)
	var v any
	switch section {
	case "all":
		v = r
	case "overview":
		v = map[string]any{"status": r.Status, "message": r.Message, "system_overview": r.SystemOverview, "monitoring_info": r.MonitoringInfo}
	case "tools":
		v = map[string]any{"tool_metrics": r.ToolMetrics}
	case "methods":
		v = map[string]any{"method_metrics": r.MethodMetrics}
	case "performance":
		v = map[string]any{"performance": r.Performance}
	case "system":
		v = map[string]any{"system": r.System, "application": r.Application}
	case "trends":
		v = map[string]any{"trends": r.Trends}
	case "custom":
		v = map[string]any{"custom_metrics": r.CustomMetrics}
	case "overhead":
		v = map[string]any{"self_overhead": r.SelfOverhead}
	case "alerts":
		v = map[string]any{"active": m.Alerts(), "recent": lastAlerts(m.AlertHistory(), 20)}
	case "health":
		v = m.Health()
	default:
		return nil, fmt.Errorf("unknown section %q: use one of %s", section, strings.Join(reportSections, ", "))
	}
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
