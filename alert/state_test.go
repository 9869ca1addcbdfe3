package alert

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// step is one sample fed to a state machine: a value (or a missing one),
// and whether the rule's guard holds.
type step struct {
	v      metric.Reading
	active bool
}

func val(v float64) step      { return step{metric.Measured(v), true} }
func idle() step              { return step{metric.NoData("no calls in the window"), true} }
func fault(why string) step   { return step{metric.Unavailable("%s", why), true} }
func guarded(v float64) step  { return step{metric.Measured(v), false} }
func (s step) String() string { return fmt.Sprintf("%v/%v", s.v, s.active) }
func transitions(as []Alert) string {
	var parts []string
	for _, a := range as {
		parts = append(parts, string(a.Transition)+":"+string(a.Level))
	}
	return strings.Join(parts, ",")
}

func TestAlertStateMachine(t *testing.T) {
	memory := Rule{Name: "memory_usage", Metric: monitor.SeriesMemoryUsage, Warning: Ptr(80), Critical: Ptr(90)}
	withFor := memory
	withFor.For = 30 * time.Second
	keep := memory
	keep.KeepFiringFor = 20 * time.Second
	repeat := memory
	repeat.Repeat = 30 * time.Second
	hit := Rule{Name: "cache_hit_rate", Metric: monitor.SeriesCacheHitRate, Direction: Below, Warning: Ptr(50), Critical: Ptr(30)}
	critOnly := Rule{Name: "errors", Metric: monitor.SeriesErrorRate, Critical: Ptr(10)}
	custom := memory
	custom.ClearWarning = Ptr(60)

	// Samples are 10 s apart. Each want entry lists the notifications of
	// the sample at the same index ("" = none).
	tests := []struct {
		name  string
		rule  Rule
		steps []step
		want  []string
	}{
		{"fires at once without for", memory,
			[]step{val(50), val(85), val(85)},
			[]string{"", "firing:warning", ""}},
		{"escalates and deescalates", memory,
			[]step{val(85), val(95), val(85), val(50)},
			[]string{"firing:warning", "escalated:critical", "deescalated:warning", "resolved:info"}},
		{"straight to critical", memory,
			[]step{val(99), val(10)},
			[]string{"firing:critical", "resolved:info"}},
		{"hysteresis holds near the threshold", memory,
			// clears only below 76 (80 - 5 %); 91 → critical, 88 holds
			// critical until below 85.5.
			[]step{val(81), val(79), val(77), val(75.9), val(91), val(88), val(86), val(85)},
			[]string{"firing:warning", "", "", "resolved:info", "firing:critical", "", "", "deescalated:warning"}},
		{"explicit clear level", custom,
			[]step{val(81), val(70), val(61), val(59)},
			[]string{"firing:warning", "", "", "resolved:info"}},
		{"for: pending until held 30 s", withFor,
			[]step{val(85), val(85), val(85), val(85), val(85)},
			[]string{"", "", "", "firing:warning", ""}},
		{"for: a spike never fires", withFor,
			[]step{val(95), val(95), val(50), val(95), val(95), val(50)},
			[]string{"", "", "", "", "", ""}},
		{"for: escalation also waits", withFor,
			[]step{val(85), val(85), val(85), val(85), val(95), val(95), val(95), val(95)},
			[]string{"", "", "", "firing:warning", "", "", "", "escalated:critical"}},
		{"keep_firing_for delays the resolve", keep,
			[]step{val(85), val(10), val(10), val(10), val(85), val(10), val(10), val(10)},
			[]string{"firing:warning", "", "", "resolved:info", "firing:warning", "", "", "resolved:info"}},
		{"repeat while firing", repeat,
			[]step{val(85), val(85), val(85), val(85), val(85), val(10)},
			[]string{"firing:warning", "", "", "repeat:warning", "", "resolved:info"}},
		{"below direction", hit,
			[]step{val(90), val(45), val(25), val(40), val(60)},
			[]string{"", "firing:warning", "escalated:critical", "deescalated:warning", "resolved:info"}},
		{"critical only", critOnly,
			[]step{val(9), val(11), val(10), val(9.4)},
			[]string{"", "firing:critical", "", "resolved:info"}},
		{"idle resolves and never fires", memory,
			[]step{idle(), val(85), idle(), idle()},
			[]string{"", "firing:warning", "resolved:info", ""}},
		{"guard off resolves and never fires", memory,
			[]step{guarded(99), val(99), guarded(99)},
			[]string{"", "firing:critical", "resolved:info"}},
		{"fault raises one info alert and freezes the level", memory,
			[]step{val(85), fault("cgroup unreadable"), fault("cgroup unreadable"), val(85), val(10)},
			[]string{"firing:warning", "firing:info", "", "resolved:info", "resolved:info"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.rule.normalized()
			if err := r.Validate(); err != nil {
				t.Fatal(err)
			}
			st := &state{rule: &r, series: r.Metric}
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for i, s := range tt.steps {
				got := transitions(st.step(t0.Add(time.Duration(i)*10*time.Second), s.v, s.active))
				if got != tt.want[i] {
					t.Errorf("sample %d (%v): got %q, want %q", i, s, got, tt.want[i])
				}
			}
		})
	}
}

func TestAlertContents(t *testing.T) {
	r := Rule{Name: "memory_usage", Metric: monitor.SeriesMemoryUsage, Warning: Ptr(80), Critical: Ptr(90), Advice: "look for leaks"}.normalized()
	st := &state{rule: &r, series: r.Metric}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fire := st.step(t0, metric.Measured(92.5), true)[0]
	if fire.Threshold != 90 || fire.Value.Value != 92.5 || !fire.StartsAt.Equal(t0) || fire.Advice != "look for leaks" {
		t.Errorf("firing alert %+v", fire)
	}
	if want := "critical memory_usage: memory_usage_percent is 92.5, above the critical threshold 90"; fire.Message != want {
		t.Errorf("message %q, want %q", fire.Message, want)
	}
	res := st.step(t0.Add(time.Minute), metric.Measured(50), true)[0]
	if res.Transition != TransitionResolved || res.Level != LevelInfo || res.Previous != LevelCritical ||
		!res.StartsAt.Equal(t0) || !res.EndsAt.Equal(t0.Add(time.Minute)) || res.Threshold != 85.5 {
		t.Errorf("resolved alert %+v", res)
	}
	if res.Fingerprint() != fire.Fingerprint() {
		t.Errorf("fingerprints differ: %q vs %q", res.Fingerprint(), fire.Fingerprint())
	}
}

func TestRuleValidate(t *testing.T) {
	tests := []struct {
		name  string
		rule  Rule
		field string // "" = valid
	}{
		{"valid", Rule{Metric: monitor.SeriesCPUUsage, Warning: Ptr(70), Critical: Ptr(85)}, ""},
		{"valid pattern", Rule{Metric: "tool.*.p95_ms", Critical: Ptr(1000)}, ""},
		{"valid custom", Rule{Metric: "custom.queue_depth", Warning: Ptr(100)}, ""},
		{"no metric", Rule{Warning: Ptr(1)}, "metric"},
		{"unknown metric", Rule{Metric: "cpu_usage", Warning: Ptr(1)}, "metric"},
		{"unknown tool figure", Rule{Metric: "tool.x.p42_ms", Warning: Ptr(1)}, "metric"},
		{"no thresholds", Rule{Metric: monitor.SeriesCPUUsage}, "warning"},
		{"warning beyond critical above", Rule{Metric: monitor.SeriesCPUUsage, Warning: Ptr(90), Critical: Ptr(80)}, "warning"},
		{"warning beyond critical below", Rule{Metric: monitor.SeriesCacheHitRate, Direction: Below, Warning: Ptr(30), Critical: Ptr(50)}, "warning"},
		{"bad direction", Rule{Metric: monitor.SeriesCPUUsage, Direction: "sideways", Warning: Ptr(1)}, "direction"},
		{"clear beyond warning", Rule{Metric: monitor.SeriesCPUUsage, Warning: Ptr(70), ClearWarning: Ptr(75)}, "clear_warning"},
		{"clear without level", Rule{Metric: monitor.SeriesCPUUsage, Warning: Ptr(70), ClearCritical: Ptr(75)}, "clear_critical"},
		{"negative for", Rule{Metric: monitor.SeriesCPUUsage, Warning: Ptr(70), For: -time.Second}, "for"},
		{"negative repeat", Rule{Metric: monitor.SeriesCPUUsage, Warning: Ptr(70), Repeat: -time.Second}, "repeat"},
		{"guard unknown", Rule{Metric: monitor.SeriesCPUUsage, Warning: Ptr(70), OnlyIf: &Guard{Metric: "nope"}}, "only_if.metric"},
		{"guard pattern", Rule{Metric: monitor.SeriesCPUUsage, Warning: Ptr(70), OnlyIf: &Guard{Metric: "tool.*.call_count"}}, "only_if.metric"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.rule.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("valid rule rejected: %v", err)
				}
				return
			}
			re, ok := err.(*RuleError)
			if !ok || re.Field != tt.field {
				t.Fatalf("error %v, want a RuleError on field %q", err, tt.field)
			}
		})
	}
	for _, r := range DefaultRules() {
		if err := r.Validate(); err != nil {
			t.Errorf("built-in rule: %v", err)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"tool.*.p95_ms", "tool.code_analysis.p95_ms", true},
		{"tool.*.p95_ms", "tool.a.b.p95_ms", true}, // tool names may hold dots
		{"tool.*.p95_ms", "tool.x.p99_ms", false},
		{"custom.*", "custom.queue_depth", true},
		{"cpu_usage_percent", "cpu_usage_percent", true},
		{"cpu_usage_percent", "cpu_usage_percentx", false},
		{"*", "anything", true},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestClearLevel(t *testing.T) {
	for _, tt := range []struct {
		name  string
		rule  Rule
		level Level
		want  float64
		ok    bool
	}{
		{"default above", Rule{Warning: Ptr(80)}, LevelWarning, 76, true},
		{"default below", Rule{Direction: Below, Critical: Ptr(30)}, LevelCritical, 31.5, true},
		{"explicit", Rule{Warning: Ptr(5), Critical: Ptr(10), ClearCritical: Ptr(7)}, LevelCritical, 7, true},
		{"no such level", Rule{Warning: Ptr(80)}, LevelCritical, 0, false},
		{"not a firing level", Rule{Warning: Ptr(80)}, LevelInfo, 0, false},
	} {
		got, ok := tt.rule.ClearLevel(tt.level)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: ClearLevel(%s) = %v, %v; want %v, %v", tt.name, tt.level, got, ok, tt.want, tt.ok)
		}
	}
}
