package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writeNamed writes content to a file called name in a fresh directory, so
// that messages can be checked with the name users will see.
func writeNamed(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLoadAlertsErrors pins the complete error output for each kind of
// mistake in the alerts section: every line names the file, the line, the
// rule (by index and, when it has one, by name) and the field.
func TestLoadAlertsErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []string // whole lines, after "<path>:"
	}{
		{
			name: "warning beyond critical",
			content: `interval: 30s
alerts:
  rules:
    - name: many_goroutines
      metric: goroutines
      warning: 1000
    - name: slow_memory_tool
      metric: tool.enhanced_memory.p95_ms
      direction: above
      critical: 250
      for: 1m
      keep_firing_for: 30s
      only_if: {metric: tool.enhanced_memory.calls_last_minute, at_least: 10}
      warning: 1000
`,
			want: []string{"14: alerts.rules[1] (slow_memory_tool).warning: 1000 is beyond critical 250 for direction above"},
		},
		{
			name: "unnamed rule is named by index",
			content: `alerts:
  rules:
    - metric: tool.*.error_rate_percent
      direction: below
      warning: 5
      critical: 10
`,
			want: []string{"5: alerts.rules[0].warning: 5 is beyond critical 10 for direction below"},
		},
		{
			name: "every problem of one rule",
			content: `alerts:
  rules:
    - name: r
      metric: goroutines
      warning: 10
      critical: 5
      clear_critical: 9
      for: -1m
      keep_firing_for: -1s
      repeat: -2s
      only_if: {metric: "tool.*.calls_last_minute", at_least: 1}
`,
			want: []string{
				"5: alerts.rules[0] (r).warning: 10 is beyond critical 5 for direction above",
				"7: alerts.rules[0] (r).clear_critical: 9 is beyond the critical threshold 5: the alert could never clear",
				"8: alerts.rules[0] (r).for: negative duration -1m0s",
				"9: alerts.rules[0] (r).keep_firing_for: negative duration -1s",
				"10: alerts.rules[0] (r).repeat: negative duration -2s",
				"11: alerts.rules[0] (r).only_if.metric: a guard names one series, not a pattern",
			},
		},
		{
			name: "missing and unknown fields",
			content: `alerts:
  rules:
    - name: no_metric
      warning: 1
    - name: no_level
      metric: goroutines
    - name: bad_metric
      metric: goroutine_count
      warning: 1
    - name: sideways
      metric: goroutines
      direction: sideways
      warning: 1
    - name: guard
      metric: goroutines
      warning: 1
      only_if: {metric: tool_calls_last_minute}
    - name: unknown_guard
      metric: goroutines
      warning: 1
      only_if: {metric: calls, at_least: 1}
`,
			want: []string{
				"3: alerts.rules[0] (no_metric).metric: required",
				"5: alerts.rules[1] (no_level).warning: a rule needs a warning or a critical threshold",
				`8: alerts.rules[2] (bad_metric).metric: unknown metric "goroutine_count" (see docs/ALERTS.md for the series names)`,
				`12: alerts.rules[3] (sideways).direction: "sideways" is neither "above" nor "below"`,
				"17: alerts.rules[4] (guard).only_if.at_least: required",
				`21: alerts.rules[5] (unknown_guard).only_if.metric: unknown metric "calls"`,
			},
		},
		{
			name: "schema errors in a rule",
			content: `alerts:
  rules:
    - name: typo
      metric: goroutines
      warnign: 5
    - name: bad_duration
      metric: goroutines
      for: 5
      warning: 10
      critical: 1
    - name: bad_number
      metric: goroutines
      warning: high
`,
			want: []string{
				"5: alerts.rules[0] (typo).warnign: unknown key",
				// Only the duration: a rule with a value that did not
				// decode is not checked further.
				`8: alerts.rules[1] (bad_duration).for: invalid duration "5" (want a duration such as 30s or 5m)`,
				"13: alerts.rules[2] (bad_number).warning: cannot unmarshal !!str `high` into float64",
			},
		},
		{
			name: "duplicate rule names",
			content: `alerts:
  rules:
    - name: dup
      metric: goroutines
      warning: 1
    - metric: process_threads
      warning: 1
    - name: dup
      metric: process_open_fds
      warning: 1
    - metric: process_threads
      critical: 1
`,
			want: []string{
				`8: alerts.rules[2] (dup).name: duplicate rule name "dup": rules[0] has it too`,
				`11: alerts.rules[3].name: an unnamed rule is named after its metric, and rules[1] already uses "process_threads"; give this one a name`,
			},
		},
		{
			name: "thresholds",
			content: `alerts:
  thresholds:
    memory_usage: {warning: 95}
    cache_hit_rate: {warning: 20, critical: 30}
    throughput: {warning: 4}
    cpu_usage: {disabled: true, warning: 50}
    disk_usage: {warning: 80, critical: 90}
    error_rate: {warning: 1, critical: 2, crit: 3}
`,
			want: []string{
				"3: alerts.thresholds.memory_usage.warning: 95 is beyond critical 90 for direction above",
				"4: alerts.thresholds.cache_hit_rate.warning: 20 is beyond critical 30 for direction below",
				"5: alerts.thresholds.throughput.warning: 4 is beyond critical 5 for direction below",
				"6: alerts.thresholds.cpu_usage.disabled: a disabled rule has no levels; remove warning and critical, or disabled",
				`7: alerts.thresholds.disk_usage: no built-in rule "disk_usage" (have memory_usage, cpu_usage, process_cpu, cache_hit_rate, query_response_time, error_rate, throughput)`,
				"8: alerts.thresholds.error_rate.crit: unknown key",
			},
		},
		{
			name: "thresholds without the built-in rules",
			content: `alerts:
  default_rules: false
  thresholds:
    memory_usage: {warning: 70, critical: 80}
`,
			want: []string{"3: alerts.thresholds: the built-in rules are off (default_rules: false); remove the thresholds, or add the rules you want under rules"},
		},
		{
			name: "rule and threshold for the same built-in",
			content: `alerts:
  thresholds:
    memory_usage: {disabled: true}
  rules:
    - name: memory_usage
      metric: memory_usage_percent
      warning: 60
`,
			want: []string{`5: alerts.rules[0] (memory_usage).name: "memory_usage" is also set under thresholds; a rule named like a built-in replaces it, so set its levels here and remove thresholds.memory_usage`},
		},
		{
			name: "section limits",
			content: `alerts:
  history: 0
  queue: -1
  log: maybe
  external_url: dashboard.local
  bogus: 1
`,
			want: []string{
				"2: alerts.history: must be at least 1, got 0",
				"3: alerts.queue: must be at least 1, got -1",
				"4: alerts.log: cannot unmarshal !!str `maybe` into bool",
				"5: alerts.external_url: want an absolute http or https URL, such as https://hooks.example.com/pbatunnel",
				"6: alerts.bogus: unknown key",
			},
		},
		{
			name: "webhooks",
			content: `alerts:
  webhooks:
    - url: /relative/path
    - url: ftp://files.example.com/alerts
    - url: "http:///no-host"
    - timeout: -1s
      retries: -1
      backoff: 0s
      url: https://hooks.example.com/x
    - url: https://hooks.example.com/y
      headers:
        "X Token": abc
        X-Ok: "line\nbreak"
        X-Ok: again
      secret: 1
`,
			want: []string{
				"3: alerts.webhooks[0].url: want an absolute http or https URL, such as https://hooks.example.com/pbatunnel",
				`4: alerts.webhooks[1].url: scheme "ftp" is not http or https`,
				"5: alerts.webhooks[2].url: no host",
				"6: alerts.webhooks[3].timeout: must be positive, got -1s",
				"7: alerts.webhooks[3].retries: must be 0 or more, got -1",
				"8: alerts.webhooks[3].backoff: must be positive, got 0s",
				"14: alerts.webhooks[4].headers.X-Ok: duplicate key (first set on line 13)",
				"15: alerts.webhooks[4].secret: unknown key",
			},
		},
		{
			name: "webhook headers",
			content: `alerts:
  webhooks:
    - url: https://hooks.example.com/y
      headers:
        "X Token": abc
        X-Ok: "line\nbreak"
        "": x
`,
			want: []string{
				"5: alerts.webhooks[0].headers.X Token: header name \"X Token\": want letters, digits and !#$%&'*+-.^_`|~",
				"6: alerts.webhooks[0].headers.X-Ok: the value of header X-Ok holds a line break or another control character",
				"7: alerts.webhooks[0].headers.: empty header name",
			},
		},
		{
			name: "alertmanager",
			content: `alerts:
  alertmanager:
    url: http://127.0.0.1:9093/api/v2/alerts/
    resend_interval: 0s
    timeout: 1h
    retries: 2
    backoff: 1x
`,
			want: []string{
				"3: alerts.alertmanager.url: give Alertmanager's base URL, such as http://127.0.0.1:9093: /api/v2/alerts is added to it",
				"4: alerts.alertmanager.resend_interval: must be positive, got 0s",
				`7: alerts.alertmanager.backoff: invalid duration "1x" (want a duration such as 30s or 5m)`,
			},
		},
		{
			name: "alertmanager without a URL",
			content: `alerts:
  alertmanager:
    resend_interval: -1m
`,
			want: []string{
				"2: alerts.alertmanager.url: required",
				"3: alerts.alertmanager.resend_interval: must be positive, got -1m0s",
			},
		},
		{
			name: "alerts mixed with other keys, in line order",
			content: `alerts:
  rules:
    - name: late
      metric: goroutines
interval: 1ms
retention:
  max_sampels: 3
`,
			want: []string{
				"3: alerts.rules[0] (late).warning: a rule needs a warning or a critical threshold",
				"5: interval: must be at least 100ms, got 1ms",
				"7: retention.max_sampels: unknown key",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeNamed(t, "pbatunnel.yaml", tt.content)
			f, err := Load(path)
			if err == nil {
				t.Fatalf("Load = %+v, want an error", f)
			}
			want := make([]string, len(tt.want))
			for i, w := range tt.want {
				want[i] = path + ":" + w
			}
			if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoadAlertsErrorsKeepSecrets checks that a URL's credentials and
// query, and header values, never appear in a message, whatever is wrong.
func TestLoadAlertsErrorsKeepSecrets(t *testing.T) {
	content := `alerts:
  webhooks:
    - url: "ftp://alice:s3cret-pw@hooks.example.com/?token=s3cret-token"
    - url: "https://alice:s3cret-pw@%zz/?token=s3cret-token"
    - url: "https://hooks.example.com/x"
      headers:
        Authorization: "Bearer s3cret-bearer\n"
  alertmanager:
    url: "http://bob:s3cret-am@127.0.0.1:9093/api/v2/alerts"
`
	_, err := Load(writeNamed(t, "pbatunnel.yaml", content))
	if err == nil {
		t.Fatal("Load succeeded, want errors")
	}
	if got := strings.Count(err.Error(), "\n") + 1; got != 4 {
		t.Errorf("got %d errors, want 4:\n%v", got, err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("an error shows a secret:\n%v", err)
	}
}

func TestSettingsCarryAlerts(t *testing.T) {
	file := writeConfig(t, "alerts:\n  log: false\n  rules:\n    - {name: g, metric: goroutines, warning: 100}\n")
	s, err := resolve(t, []string{"--config", file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Alerts{Log: ptr(false), Rules: []Rule{{Name: "g", Metric: "goroutines", Warning: ptr(100.0)}}}
	if diff := cmp.Diff(want, s.Alerts); diff != "" {
		t.Errorf("Settings.Alerts mismatch (-want +got):\n%s", diff)
	}
}
