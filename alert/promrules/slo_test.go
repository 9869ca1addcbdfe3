package promrules

import (
	"strings"
	"testing"
	"time"
)

func TestSLOValidate(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name string
		slo  SLO
		want []string // substrings of the error, "" for none
	}{
		{name: "defaults", slo: *DefaultSLO()},
		{name: "zero", slo: SLO{}},
		{name: "four weeks, 99.9 %", slo: SLO{Window: 28 * day, ErrorRatio: &ErrorRatio{Objective: 0.999},
			Latency: &Latency{Objective: 0.95, Threshold: 2500 * time.Microsecond}}},
		{name: "window shorter than a burn window", slo: SLO{Window: day},
			want: []string{"window: must be at least 3d, the longest burn-rate window, got 1d"}},
		{name: "negative window", slo: SLO{Window: -day}, want: []string{"window: must be positive"}},
		{name: "percentage", slo: SLO{ErrorRatio: &ErrorRatio{Objective: 99.9}},
			want: []string{"error_ratio.objective: want the share of tool calls that must succeed, between 0 and 1 such as 0.99, got 99.9 (a percentage? write 0.999)"}},
		{name: "one", slo: SLO{Latency: &Latency{Objective: 1}}, want: []string{"latency.objective: want the share of tool calls that must be that fast"}},
		{name: "unreachable page", slo: SLO{ErrorRatio: &ErrorRatio{Objective: 0.93}},
			want: []string{"error_ratio.objective: 0.93 leaves an error budget of 0.07: the fast page fires at 14.4 times the budget, a ratio of 1.008, which cannot happen; want an objective above 0.9306"}},
		{name: "reachable page", slo: SLO{ErrorRatio: &ErrorRatio{Objective: 0.931}}},
		{name: "between bounds", slo: SLO{Latency: &Latency{Threshold: 250 * time.Millisecond}},
			want: []string{"latency.threshold: 250ms is not a bucket bound of mcp_server_operation_duration_seconds",
				"must be one of 500µs, 1ms, 2.5ms, 5ms, 10ms, 20ms, 50ms, 100ms, 200ms, 500ms, 1s, 2s, 5s, 10s, 30s, 1m, 2m, 5m; the nearest are 200ms and 500ms"}},
		{name: "below every bound", slo: SLO{Latency: &Latency{Threshold: 100 * time.Microsecond}}, want: []string{"the nearest is 500µs"}},
		{name: "above every bound", slo: SLO{Latency: &Latency{Threshold: 10 * time.Minute}}, want: []string{"the nearest is 5m"}},
		{name: "every problem at once", slo: SLO{Window: time.Hour, ErrorRatio: &ErrorRatio{Objective: -1},
			Latency: &Latency{Objective: 2, Threshold: -time.Second}},
			want: []string{"window:", "error_ratio.objective:", "latency.objective:", "latency.threshold: must be positive"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.slo.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: nil, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
		})
	}
}

func TestSLORules(t *testing.T) {
	f, err := Build(Options{SLO: &SLO{Window: 28 * 24 * time.Hour, ErrorRatio: &ErrorRatio{Objective: 0.995},
		Latency: &Latency{Objective: 0.95, Threshold: time.Second}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Groups) != 1 || f.Groups[0].Name != GroupSLO {
		t.Fatalf("groups %+v", f.Groups)
	}
	var alerts []Rule
	records := map[string]string{}
	for _, r := range f.Groups[0].Rules {
		if r.Alert != "" {
			alerts = append(alerts, r)
		} else {
			records[r.Record] = r.Expr
		}
	}
	if len(alerts) != 8 {
		t.Fatalf("%d alerts, want 8", len(alerts))
	}
	want := []struct{ name, expr, severity, spent string }{
		{"PbatunnelToolErrorBudgetBurn", "instance:pbatunnel_tool_errors:ratio_rate1h > (14.4 * 0.005)\nand\ninstance:pbatunnel_tool_errors:ratio_rate5m > (14.4 * 0.005)", "critical", "spent in 1d 23h"},
		{"PbatunnelToolErrorBudgetBurn", "instance:pbatunnel_tool_errors:ratio_rate6h > (6 * 0.005)\nand\ninstance:pbatunnel_tool_errors:ratio_rate30m > (6 * 0.005)", "critical", "spent in 4d 16h"},
		{"PbatunnelToolErrorBudgetBurn", "instance:pbatunnel_tool_errors:ratio_rate1d > (3 * 0.005)\nand\ninstance:pbatunnel_tool_errors:ratio_rate2h > (3 * 0.005)", "warning", "spent in 9d 8h"},
		{"PbatunnelToolErrorBudgetBurn", "instance:pbatunnel_tool_errors:ratio_rate3d > (1 * 0.005)\nand\ninstance:pbatunnel_tool_errors:ratio_rate6h > (1 * 0.005)", "warning", "spent in 28d"},
		{"PbatunnelToolLatencyBudgetBurn", "instance:pbatunnel_tool_calls_slower_than_1s:ratio_rate1h > (14.4 * 0.05)\nand\ninstance:pbatunnel_tool_calls_slower_than_1s:ratio_rate5m > (14.4 * 0.05)", "critical", "at most 1s over 28d"},
	}
	for i, w := range want {
		a := alerts[i]
		if a.Alert != w.name || a.Expr != w.expr || a.Labels["severity"] != w.severity || !strings.Contains(a.Annotations["description"], w.spent) {
			t.Errorf("alert %d: %s %q %v\n%s\nwant %s %q %s, a description with %q", i, a.Alert, a.Expr, a.Labels,
				a.Annotations["description"], w.name, w.expr, w.severity, w.spent)
		}
	}
	if got, want := records["instance:pbatunnel_tool_calls_within_1s:rate2h"],
		`sum by (job, instance) (rate(mcp_server_operation_duration_seconds_bucket{mcp_method_name="tools/call", le=~"1|1\\.0"}[2h]))`; got != want {
		t.Errorf("within 1s over 2h:\n%s\nwant\n%s", got, want)
	}
	if got, want := records["instance:pbatunnel_tool_errors:ratio_rate3d"],
		"instance:pbatunnel_tool_errors:rate3d / instance:pbatunnel_tool_calls:rate3d"; got != want {
		t.Errorf("error ratio over 3d: %s, want %s", got, want)
	}
	// Seven windows: calls, errors and their ratio, within the threshold
	// and the slower share, for each.
	if len(records) != 7*5 {
		t.Errorf("%d recording rules, want 35", len(records))
	}
}

// TestSLOOneObjective writes the alerts of the objectives set, and nothing
// for the other.
func TestSLOOneObjective(t *testing.T) {
	f, err := Build(Options{SLO: &SLO{ErrorRatio: &ErrorRatio{}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range f.Groups[0].Rules {
		if strings.Contains(r.Alert+r.Record, "Latency") || strings.Contains(r.Record, "slower") {
			t.Errorf("latency rule %s%s without a latency objective", r.Alert, r.Record)
		}
	}
	if a, rec := f.Counts(); a != 4 || rec != 21 {
		t.Errorf("%d alerting and %d recording rules, want 4 and 21", a, rec)
	}
}

// TestSLOBudgetIsExact: the budget is 1 − objective in decimal, as the
// objective was written, not float arithmetic's: five or six nines leave
// a budget of 0.00001 or 0.000001 in the expressions and the descriptions,
// not 0.00000999999999995.
func TestSLOBudgetIsExact(t *testing.T) {
	for _, tt := range []struct {
		objective float64
		budget    string // as the expression writes it
		percent   string // the budget as the description writes it
		written   string // the objective as the description writes it
	}{
		{0.99, "0.01", "1%", "99%"},
		{0.9995, "0.0005", "0.05%", "99.95%"},
		{0.99999, "0.00001", "0.001%", "99.999%"},
		{0.999999, "0.000001", "0.0001%", "99.9999%"},
		{0.99999999999999, "0.00000000000001", "0.000000000001%", "99.999999999999%"},
	} {
		f, err := Build(Options{SLO: &SLO{ErrorRatio: &ErrorRatio{Objective: tt.objective}}})
		if err != nil {
			t.Fatal(err)
		}
		var page Rule
		for _, r := range f.Groups[0].Rules {
			if r.Alert != "" {
				page = r
				break
			}
		}
		if want := "> (14.4 * " + tt.budget + ")"; !strings.Contains(page.Expr, want) {
			t.Errorf("objective %v: expr %q, want %q in it", tt.objective, page.Expr, want)
		}
		desc := page.Annotations["description"]
		for _, want := range []string{"a budget of " + tt.percent + ":", "the objective is for " + tt.written + " of tool calls"} {
			if !strings.Contains(desc, want) {
				t.Errorf("objective %v: description %q, want %q in it", tt.objective, desc, want)
			}
		}
	}
}
