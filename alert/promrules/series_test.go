package promrules

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor/host"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

func newBuilder() *builder {
	return &builder{rate: DefaultRateWindow, recent: monitor.DefaultRecentWindow, recorded: map[string]string{}}
}

// expand replaces the recording rules in expr by their expressions, so that
// a test can say what a figure reads from /metrics.
func (b *builder) expand(expr string) string {
	for range 5 {
		for name, e := range b.recorded {
			expr = strings.ReplaceAll(expr, name, "("+e+")")
		}
	}
	return expr
}

// TestEverySeriesHasAnAnswer goes through every series a monitor has: each
// is either computed from /metrics or left out with a reason of its own,
// never an expression that means something else, nor a generic refusal.
func TestEverySeriesHasAnAnswer(t *testing.T) {
	var names []string
	(&monitor.Snapshot{System: &host.Stats{}}).EachSeries(func(name string, _ metric.Reading) { names = append(names, name) })
	names = append(names, "tool.x.call_count", "tool.x.error_count", "tool.x.calls_per_second", "tool.x.calls_last_minute",
		"tool.x.error_rate_percent", "tool.x.average_response_time_ms", "tool.x.p50_ms", "tool.x.p95_ms", "tool.x.p99_ms",
		"method.initialize.call_count", "method.initialize.error_count", "method.initialize.average_response_time_ms",
		"method.initialize.p99_ms", "custom.jobs", "custom.t.p95_ms", "process.db.cpu_percent", "process.db.rss_bytes")
	if len(names) < 40 {
		t.Fatalf("only %d series: %q", len(names), names)
	}
	for _, name := range names {
		if !monitor.KnownSeries(name) {
			t.Errorf("%s is not a series the monitor knows", name)
			continue
		}
		b := newBuilder()
		f, err := b.series(name)
		var lo *leftOutError
		switch {
		case errors.As(err, &lo):
			if strings.Contains(lo.reason, "is not a") {
				t.Errorf("%s: left out as unknown: %s", name, lo.reason)
			}
		case err != nil:
			t.Errorf("%s: %v", name, err)
		case f.expr == "":
			t.Errorf("%s: no expression", name)
		}
	}
}

func TestSeries(t *testing.T) {
	tests := []struct {
		series string
		expr   string // the expression with recording rules expanded
		by     []string
		name   string // "" means the series' name
		note   string // substring; "" means none
	}{
		{series: "memory_usage_percent", expr: `(max by (job, instance) (pbatunnel_memory_usage_percent))`},
		{series: "error_rate_percent",
			expr: `(100 * (sum by (job, instance) (rate(mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call", error_type!=""}[1m]))
or
0 * (sum by (job, instance) (rate(mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call"}[1m])))) / (sum by (job, instance) (rate(mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call"}[1m]))))`},
		{series: "average_concurrency",
			expr: `(sum by (job, instance) (rate(mcp_server_operation_duration_seconds_sum{mcp_method_name="tools/call"}[1m])))`},
		{series: "tool_calls_last_minute",
			expr: `60 * (sum by (job, instance) (rate(mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call"}[1m])))`},
		{series: "process_open_fds",
			expr: "max by (job, instance) (process_open_fds) and on (job, instance) pbatunnel_monitor_samples_total"},
		{series: "disk_read_bytes_per_sec", expr: `sum by (job, instance) (rate(pbatunnel_host_disk_read_bytes_total[1m]))`,
			note: "between two samples"},
		{series: "memory_entries_count", expr: `max by (job, instance) (pbatunnel_application{name="memory_entries_count"})`},
		{series: "query.average_response_time_ms",
			expr: "1000 * sum by (job, instance) (pbatunnel_store_query_duration_seconds_total)\n/\nsum by (job, instance) (pbatunnel_store_queries_total)"},
		{series: "tools.p99_ms",
			expr: `(1000 * histogram_quantile(0.99, sum by (job, instance, le) (rate(mcp_server_operation_duration_seconds_bucket{mcp_method_name="tools/call"}[5m]))))`,
			note: "interpolates"},
		{series: "tool.code_analysis.error_count", by: []string{toolLabel},
			expr: `sum by (job, instance, gen_ai_tool_name) (mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call", gen_ai_tool_name="code_analysis", error_type!=""})
or
0 * sum by (job, instance, gen_ai_tool_name) (mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call", gen_ai_tool_name="code_analysis"})`},
		{series: "tool.*.p95_ms", by: []string{toolLabel}, name: "tool.{{ $labels.gen_ai_tool_name }}.p95_ms",
			expr: `(1000 * histogram_quantile(0.95, sum by (job, instance, gen_ai_tool_name, le) (rate(mcp_server_operation_duration_seconds_bucket{mcp_method_name="tools/call"}[5m]))))`,
			note: "interpolates"},
		{series: "tool.code_*.calls_per_second", by: []string{toolLabel}, name: "tool.{{ $labels.gen_ai_tool_name }}.calls_per_second",
			expr: `(sum by (job, instance, gen_ai_tool_name) (rate(mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call"}[1m]))){gen_ai_tool_name=~"code_.*"}`},
		{series: "method.tools/call.call_count", by: []string{methodLabel},
			expr: `sum by (job, instance, mcp_method_name) (mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call"})`,
			note: "tools the server does not have"},
		{series: "method.initialize.average_response_time_ms", by: []string{methodLabel},
			expr: `1000 * sum by (job, instance, mcp_method_name) (mcp_server_operation_duration_seconds_sum{mcp_method_name="initialize"})
/
sum by (job, instance, mcp_method_name) (mcp_server_operation_duration_seconds_count{mcp_method_name="initialize"})`},
		{series: "custom.jobs_done", by: []string{nameLabel},
			expr: `max by (job, instance, name) (pbatunnel_custom_counter_total{name="jobs_done"} or pbatunnel_custom_gauge{name="jobs_done"})`},
		{series: "custom.queue.*", by: []string{nameLabel}, name: "custom.{{ $labels.name }}",
			expr: `max by (job, instance, name) (pbatunnel_custom_counter_total{name=~"queue\\..*"} or pbatunnel_custom_gauge{name=~"queue\\..*"})`,
			note: "timers"},
		{series: "orders_pending", expr: `max by (job, instance) (pbatunnel_application{name="orders_pending"})`},
	}
	for _, tt := range tests {
		t.Run(tt.series, func(t *testing.T) {
			b := newBuilder()
			f, err := b.series(tt.series)
			if err != nil {
				t.Fatal(err)
			}
			if got := b.expand(f.expr); got != tt.expr {
				t.Errorf("expr:\n%s\nwant:\n%s", got, tt.expr)
			}
			if strings.Join(f.by, ",") != strings.Join(tt.by, ",") {
				t.Errorf("by = %q, want %q", f.by, tt.by)
			}
			name := tt.name
			if name == "" {
				name = tt.series
			}
			if f.name != name {
				t.Errorf("name = %q, want %q", f.name, name)
			}
			if tt.note == "" && f.note != "" || !strings.Contains(f.note, tt.note) {
				t.Errorf("note = %q, want %q", f.note, tt.note)
			}
		})
	}
}

func TestSeriesLeftOut(t *testing.T) {
	for _, tt := range []struct{ series, reason string }{
		{"throughput_last_interval", "one sampling interval"},
		{"query.p95_ms", "no latency histogram"},
		{"process.postgres.cpu_percent", "watched processes"},
		{"custom.render.p99_ms", "custom timers"},
		{"tool.x.bogus", `"bogus" is not a figure`},
	} {
		_, err := newBuilder().series(tt.series)
		var lo *leftOutError
		if !errors.As(err, &lo) || !strings.Contains(lo.reason, tt.reason) {
			t.Errorf("%s: %v, want left out because %q", tt.series, err, tt.reason)
		}
	}
}

// TestRateWindowNotes: with a rate window other than a minute, the
// last-minute figures say so, and the recording rules are named after it.
func TestRateWindowNotes(t *testing.T) {
	b := newBuilder()
	b.rate = 2 * time.Minute
	f, err := b.series("error_rate_percent")
	if err != nil {
		t.Fatal(err)
	}
	if f.expr != "instance:pbatunnel_tool_errors:percent_rate2m" || !strings.Contains(f.note, "over 2m (--rate-window)") {
		t.Errorf("expr %q, note %q", f.expr, f.note)
	}
	if !strings.Contains(b.recorded["instance:pbatunnel_tool_calls:rate2m"], "[2m]") {
		t.Errorf("recorded %q", b.recorded)
	}
}
