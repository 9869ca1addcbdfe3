package app

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/config"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// writeNamed writes content to a file called name in a fresh directory.
func writeNamed(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func ptr[T any](v T) *T { return &v }

func dur(d time.Duration) *config.Duration { return ptr(config.Duration(d)) }

// errText is the message of err, which may join several.
func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

const fullAlerts = `
alerts:
  default_rules: true
  history: 100
  queue: 16
  log: true
  external_url: http://127.0.0.1:8080/
  thresholds:
    memory_usage: {warning: 70, critical: 85}
    cache_hit_rate: {critical: 20}
    throughput: {disabled: true}
  rules:
    - name: slow_memory_tool
      metric: tool.enhanced_memory.p95_ms
      direction: above
      warning: 250
      critical: 1000
      clear_warning: 200
      clear_critical: 800
      for: 1m
      keep_firing_for: 30s
      repeat: 10m
      only_if: {metric: tool.enhanced_memory.calls_last_minute, at_least: 10}
      advice: Look at the store.
    - metric: tool.*.error_rate_percent
      warning: 5
    - name: error_rate
      metric: error_rate_percent
      warning: 2
      critical: 4
  webhooks:
    - url: https://alice:pw@hooks.example.com/pbatunnel?token=abc
      timeout: 5s
      retries: 3
      backoff: 500ms
      headers: {Authorization: "Bearer abc"}
    - url: http://127.0.0.1:9000/hook
      retries: 0
      receiver: ops
  alertmanager:
    url: http://127.0.0.1:9093
    resend_interval: 1m
`

func TestApplyAlertsFullConfig(t *testing.T) {
	f, err := config.Load(writeNamed(t, "pbatunnel.yaml", fullAlerts))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	a := &f.Alerts
	opts := a.EngineOptions()
	if opts.NoDefaultRules || opts.History != 100 || opts.Queue != 16 {
		t.Errorf("options NoDefaultRules=%v History=%d Queue=%d, want false 100 16",
			opts.NoDefaultRules, opts.History, opts.Queue)
	}
	m := alert.New(monitor.New(monitor.Options{DisableSystem: true}), opts)
	runners, err := ApplyAlerts(a, m, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}

	builtin := map[string]alert.Rule{}
	for _, r := range alert.DefaultRules() {
		builtin[r.Name] = r
	}
	memory := builtin[alert.RuleMemoryUsage]
	memory.Warning, memory.Critical = alert.Ptr(70), alert.Ptr(85)
	cache := builtin[alert.RuleCacheHitRate]
	cache.Critical = alert.Ptr(20) // the warning stays at 50
	want := []alert.Rule{
		memory,
		builtin[alert.RuleCPUUsage],
		builtin[alert.RuleProcessCPU],
		cache,
		builtin[alert.RuleQueryResponseTime],
		// error_rate is replaced by the rule of that name; throughput is off.
		{
			Name: "slow_memory_tool", Metric: "tool.enhanced_memory.p95_ms", Direction: alert.Above,
			Warning: alert.Ptr(250), Critical: alert.Ptr(1000),
			ClearWarning: alert.Ptr(200), ClearCritical: alert.Ptr(800),
			For: time.Minute, KeepFiringFor: 30 * time.Second, Repeat: 10 * time.Minute,
			OnlyIf: &alert.Guard{Metric: "tool.enhanced_memory.calls_last_minute", AtLeast: 10},
			Advice: "Look at the store.",
		},
		{Name: "tool.*.error_rate_percent", Metric: "tool.*.error_rate_percent", Direction: alert.Above, Warning: alert.Ptr(5)},
		{Name: "error_rate", Metric: "error_rate_percent", Direction: alert.Above, Warning: alert.Ptr(2), Critical: alert.Ptr(4)},
	}
	byName := cmpopts.SortSlices(func(a, b alert.Rule) bool { return a.Name < b.Name })
	if diff := cmp.Diff(want, m.Rules(), byName); diff != "" {
		t.Errorf("Rules mismatch (-want +got):\n%s", diff)
	}

	var names []string
	for _, h := range m.HandlerStats() {
		names = append(names, h.Name)
	}
	wantNames := []string{
		"log",
		"webhook https://xxxxx:xxxxx@hooks.example.com/pbatunnel?token=xxxxx",
		"webhook http://127.0.0.1:9000/hook",
		"alertmanager http://127.0.0.1:9093",
	}
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Errorf("handler names mismatch (-want +got):\n%s", diff)
	}
	if len(runners) != 1 {
		t.Errorf("got %d runners, want 1 (the Alertmanager's re-push)", len(runners))
	}
}

func TestApplyAlertsVariants(t *testing.T) {
	tests := []struct {
		name     string
		content  string
		rules    []string // names, in any order
		handlers []string
		runners  int
	}{
		{
			name:     "no alerts section",
			content:  "interval: 10s\n",
			rules:    []string{"cache_hit_rate", "cpu_usage", "error_rate", "memory_usage", "process_cpu", "query_response_time", "throughput"},
			handlers: []string{"log"},
		},
		{
			name:     "without built-ins or log",
			content:  "alerts:\n  default_rules: false\n  log: false\n  rules:\n    - {metric: goroutines, warning: 1000}\n",
			rules:    []string{"goroutines"},
			handlers: nil,
		},
		{
			name:     "every built-in off",
			content:  "alerts:\n  thresholds:\n" + disableAll(),
			rules:    nil,
			handlers: []string{"log"},
		},
		{
			name:     "alertmanager only",
			content:  "alerts:\n  log: false\n  default_rules: false\n  alertmanager: {url: 'http://am.example.com:9093/prefix'}\n",
			handlers: []string{"alertmanager http://am.example.com:9093/prefix"},
			runners:  1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := config.Load(writeNamed(t, "pbatunnel.yaml", tt.content))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			m := alert.New(monitor.New(monitor.Options{DisableSystem: true}), f.Alerts.EngineOptions())
			runners, err := ApplyAlerts(&f.Alerts, m, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			var rules, handlers []string
			for _, r := range m.Rules() {
				rules = append(rules, r.Name)
			}
			for _, h := range m.HandlerStats() {
				handlers = append(handlers, h.Name)
			}
			if diff := cmp.Diff(tt.rules, rules, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
				t.Errorf("rules mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.handlers, handlers); diff != "" {
				t.Errorf("handlers mismatch (-want +got):\n%s", diff)
			}
			if len(runners) != tt.runners {
				t.Errorf("got %d runners, want %d", len(runners), tt.runners)
			}
		})
	}
}

func disableAll() string {
	var b strings.Builder
	for _, r := range alert.DefaultRules() {
		b.WriteString("    " + r.Name + ": {disabled: true}\n")
	}
	return b.String()
}

// TestApplyAlertsInvalidChangesNothing checks that Apply validates an Alerts
// built in code, naming the rule, and leaves the monitor alone.
func TestApplyAlertsInvalidChangesNothing(t *testing.T) {
	a := &config.Alerts{
		Thresholds: map[string]config.Threshold{alert.RuleMemoryUsage: {Warning: alert.Ptr(50), Critical: alert.Ptr(60)}},
		Rules: []config.Rule{
			{Name: "ok", Metric: "goroutines", Warning: alert.Ptr(1)},
			{Name: "bad", Metric: "goroutines", Warning: alert.Ptr(5), Critical: alert.Ptr(1)},
		},
		Webhooks: []config.Webhook{{URL: "https://hooks.example.com/x"}},
	}
	m := alert.New(monitor.New(monitor.Options{DisableSystem: true}), alert.Options{})
	before := m.Rules()
	_, err := ApplyAlerts(a, m, nil)
	if got, want := errText(err), "alerts.rules[1] (bad).warning: 5 is beyond critical 1 for direction above"; got != want {
		t.Errorf("Apply error:\n got %s\nwant %s", got, want)
	}
	var fe *config.FieldError
	if !errors.As(err, &fe) {
		t.Errorf("error %v is not a *FieldError", err)
	}
	if diff := cmp.Diff(before, m.Rules()); diff != "" {
		t.Errorf("rules changed (-before +after):\n%s", diff)
	}
	if h := m.HandlerStats(); len(h) != 0 {
		t.Errorf("handlers registered: %+v", h)
	}
}

// TestRetriesMapping checks that the file's "retries: 0" means no retry,
// while the alert package reads 0 as its default.
func TestRetriesMapping(t *testing.T) {
	for _, tt := range []struct {
		in   *int
		want int
	}{{nil, 0}, {ptr(0), -1}, {ptr(1), 1}, {ptr(5), 5}} {
		w := config.Webhook{URL: "https://hooks.example.com/", Retries: tt.in}
		if got := webhookHandler(&w, "").Retries; got != tt.want {
			t.Errorf("retries %v: notify.Webhook.Retries = %d, want %d", tt.in, got, tt.want)
		}
		am := config.Alertmanager{URL: "http://127.0.0.1:9093", Retries: tt.in}
		if got := alertmanagerHandler(&am, "", nil).Retries; got != tt.want {
			t.Errorf("retries %v: notify.Alertmanager.Retries = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// TestApplyAlertsThenRun checks that the runner Apply returns is the
// Alertmanager's loop and ends with its context.
func TestApplyAlertsThenRun(t *testing.T) {
	a := &config.Alerts{Alertmanager: &config.Alertmanager{URL: "http://127.0.0.1:9093", ResendInterval: dur(time.Hour)}}
	m := alert.New(monitor.New(monitor.Options{DisableSystem: true}), alert.Options{})
	runners, err := ApplyAlerts(a, m, slog.New(slog.DiscardHandler))
	if err != nil || len(runners) != 1 {
		t.Fatalf("Apply = %d runners, %v; want 1, nil", len(runners), err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- runners[0].Run(ctx) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}
