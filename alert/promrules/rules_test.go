package promrules

import (
	"bytes"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

func TestBuildDefaults(t *testing.T) {
	f, err := Build(Options{Rules: alert.DefaultRules(), SLO: DefaultSLO()})
	if err != nil {
		t.Fatal(err)
	}
	if a, r := f.Counts(); a != 22 || r != 45 {
		t.Errorf("%d alerting and %d recording rules, want 22 and 45", a, r)
	}
	if len(f.Groups) != 2 || f.Groups[0].Name != GroupRules || f.Groups[1].Name != GroupSLO {
		t.Fatalf("groups %+v", f.Groups)
	}
	if len(f.LeftOut) != 0 {
		t.Errorf("left out %+v", f.LeftOut)
	}
	records := map[string]bool{}
	levels := map[string]int{}
	for _, g := range f.Groups {
		for i, r := range g.Rules {
			if r.Record != "" {
				if records[r.Record] {
					t.Errorf("%s recorded twice", r.Record)
				}
				records[r.Record] = true
				continue
			}
			// Prometheus evaluates a group in order: what an alert reads
			// from its own group must come before it.
			for _, later := range g.Rules[i:] {
				if later.Record != "" && strings.Contains(r.Expr, later.Record) {
					t.Errorf("%s reads %s, recorded after it", r.Alert, later.Record)
				}
			}
			sev := r.Labels["severity"]
			if sev != "warning" && sev != "critical" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: labels %v, annotations %v", r.Alert, r.Labels, r.Annotations)
			}
			levels[r.Alert+" "+r.Labels["rule"]+r.Labels["slo"]]++
		}
	}
	for _, r := range alert.DefaultRules() {
		if n := levels[AlertName(r.Name)+" "+r.Name]; n != 2 {
			t.Errorf("%s: %d alerting rules, want one per level", r.Name, n)
		}
	}
	if levels["PbatunnelToolErrorBudgetBurn tool_errors"] != 4 || levels["PbatunnelToolLatencyBudgetBurn tool_latency"] != 4 {
		t.Errorf("burn-rate alerts %v, want four per objective", levels)
	}
}

func TestAlertRules(t *testing.T) {
	r := alert.Rule{
		Name: "queue", Metric: "custom.queue_depth", Direction: alert.Below,
		Critical: alert.Ptr(5), ClearCritical: alert.Ptr(8),
		For: 30 * time.Second, KeepFiringFor: 2 * time.Minute, Repeat: time.Hour,
		Advice: "Look at {{ the producer }}.",
	}
	f, err := Build(Options{Rules: []alert.Rule{r}})
	if err != nil {
		t.Fatal(err)
	}
	rules := f.Groups[0].Rules
	if len(rules) != 1 {
		t.Fatalf("rules %+v, want the critical level alone", rules)
	}
	got := rules[0]
	wantExpr := `(max by (job, instance, name) (pbatunnel_custom_counter_total{name="queue_depth"} or pbatunnel_custom_gauge{name="queue_depth"})) < 5
or
(
  (max by (job, instance, name) (pbatunnel_custom_counter_total{name="queue_depth"} or pbatunnel_custom_gauge{name="queue_depth"})) < 8
  and on (job, instance, name)
  ALERTS{alertname="PbatunnelQueue", alertstate="firing", rule="queue", severity="critical"}
)`
	if got.Expr != wantExpr {
		t.Errorf("expr:\n%s\nwant:\n%s", got.Expr, wantExpr)
	}
	if got.For != r.For || got.KeepFiringFor != r.KeepFiringFor {
		t.Errorf("for %v, keep_firing_for %v", got.For, got.KeepFiringFor)
	}
	for _, w := range []string{"below 5 for 30s", "back above 8 for 2m", `Look at {{ "{{" }} the producer }}.`} {
		if !strings.Contains(got.Annotations["description"], w) {
			t.Errorf("description %q lacks %q", got.Annotations["description"], w)
		}
	}
	if !strings.Contains(got.Comment, "repeat (1h) is left to Alertmanager") {
		t.Errorf("comment %q", got.Comment)
	}
}

func TestLeftOut(t *testing.T) {
	rules := []alert.Rule{
		{Name: "p95", Metric: "query.p95_ms", Warning: alert.Ptr(100)},
		{Name: "guarded", Metric: monitor.SeriesErrorRate, Warning: alert.Ptr(5),
			OnlyIf: &alert.Guard{Metric: "throughput_last_interval", AtLeast: 1}},
		{Name: "kept", Metric: monitor.SeriesMemoryUsage, Warning: alert.Ptr(80)},
	}
	f, err := Build(Options{Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.LeftOut) != 2 || f.LeftOut[0].Rule != "p95" || !strings.Contains(f.LeftOut[1].Reason, "its guard's series throughput_last_interval") {
		t.Fatalf("left out %+v", f.LeftOut)
	}
	if a, _ := f.Counts(); a != 1 {
		t.Errorf("%d alerting rules, want 1", a)
	}
	var b bytes.Buffer
	if _, err := f.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"# Left out, having no faithful form over /metrics:", "# - rule p95 (query.p95_ms): store queries have",
		"# - rule guarded (error_rate_percent): its guard's series"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("file lacks %q:\n%s", w, b.String())
		}
	}
}

func TestBuildErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		o    Options
		want string
	}{
		{"rate window", Options{RateWindow: 500 * time.Millisecond}, "rate window: must be at least 1s, got 500ms"},
		{"recent window", Options{RecentWindow: -time.Minute}, "recent window: must be positive"},
		{"slo", Options{SLO: &SLO{Latency: &Latency{Threshold: 300 * time.Millisecond}}},
			"slo: latency.threshold: 300ms is not a bucket bound"},
	} {
		if _, err := Build(tt.o); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestWriteToIsStable: the same rules write the same bytes, so a file
// kept in a repository can be compared with a fresh export.
func TestWriteToIsStable(t *testing.T) {
	var first []byte
	for range 3 {
		f, err := Build(Options{Rules: alert.DefaultRules(), SLO: DefaultSLO()})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if _, err := f.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = b.Bytes()
		} else if !bytes.Equal(first, b.Bytes()) {
			t.Fatal("two exports of the same rules differ")
		}
	}
}

// TestSeriesNamesInTemplates: a series or rule name is the user's text,
// and "{{" in it would start a template action that Prometheus refuses,
// with the whole file. Annotations and labels, which Prometheus expands
// alike, have it as text.
func TestSeriesNamesInTemplates(t *testing.T) {
	f, err := Build(Options{Rules: []alert.Rule{
		{Name: "jobs", Metric: "custom.jobs{{x}}", Warning: alert.Ptr(1),
			OnlyIf: &alert.Guard{Metric: "custom.load{{y}}", AtLeast: 1}},
		{Name: "tool", Metric: "tool.a{{b}}.p95_ms", Warning: alert.Ptr(1)},
		{Name: "named {{z}}", Metric: monitor.SeriesMemoryUsage, Warning: alert.Ptr(1)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, r := range f.Groups[0].Rules {
		if r.Alert == "" {
			continue
		}
		n++
		// Prometheus expands the labels of an alerting rule too.
		expanded := maps.Clone(r.Annotations)
		maps.Copy(expanded, r.Labels)
		for k, v := range expanded {
			text := strings.ReplaceAll(v, `{{ "{{" }}`, "") // what is left to act
			for _, action := range []string{"{{x}}", "{{y}}", "{{b}}", "{{z}}"} {
				if strings.Contains(text, action) {
					t.Errorf("%s %s: %q leaves the name's %s as a template action", r.Alert, k, v, action)
				}
			}
		}
	}
	if n != 3 {
		t.Fatalf("%d alerts, want 3", n)
	}
}
