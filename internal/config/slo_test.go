package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-pba-tunnel/pbatunnel/alert/promrules"
)

func TestLoadSLO(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name    string
		content string
		want    *promrules.SLO
	}{
		{name: "absent: both objectives at their defaults", content: "interval: 30s\n", want: promrules.DefaultSLO()},
		{
			name: "every key",
			content: `slo:
  window: 4w
  error_ratio: {objective: 0.999}
  latency: {objective: 0.95, threshold: 2.5ms}
`,
			want: &promrules.SLO{Window: 28 * day, ErrorRatio: &promrules.ErrorRatio{Objective: 0.999},
				Latency: &promrules.Latency{Objective: 0.95, Threshold: 2500 * time.Microsecond}},
		},
		{
			name:    "some keys",
			content: "slo:\n  window: 30d\n  latency:\n    threshold: 1s\n",
			want: &promrules.SLO{Window: 30 * day, ErrorRatio: &promrules.ErrorRatio{},
				Latency: &promrules.Latency{Threshold: time.Second}},
		},
		{
			name:    "disabled",
			content: "slo:\n  error_ratio: {disabled: true}\n  latency: {disabled: true}\n",
			want:    &promrules.SLO{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Load(writeNamed(t, "pbatunnel.yaml", tt.content))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, f.SLO.Objectives()); diff != "" {
				t.Errorf("objectives (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoadSLOErrors pins the messages of the slo section: each names the
// file, the line and the key, and says what to write instead.
func TestLoadSLOErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []string // whole lines, after "<path>:"
	}{
		{
			name:    "threshold between two bounds",
			content: "slo:\n  latency:\n    threshold: 250ms\n",
			want: []string{"3: slo.latency.threshold: 250ms is not a bucket bound of mcp_server_operation_duration_seconds: " +
				"Prometheus counts the calls at or under a bound and nowhere in between, so the threshold must be one of " +
				"500µs, 1ms, 2.5ms, 5ms, 10ms, 20ms, 50ms, 100ms, 200ms, 500ms, 1s, 2s, 5s, 10s, 30s, 1m, 2m, 5m; " +
				"the nearest are 200ms and 500ms"},
		},
		{
			name:    "objectives out of range",
			content: "slo:\n  error_ratio:\n    objective: 99\n  latency:\n    objective: 0.92\n",
			want: []string{
				"3: slo.error_ratio.objective: want the share of tool calls that must succeed, between 0 and 1 such as 0.99, got 99 (a percentage? write 0.99)",
				"5: slo.latency.objective: 0.92 leaves an error budget of 0.08: the fast page fires at 14.4 times the budget, " +
					"a ratio of 1.152, which cannot happen; want an objective above 0.9306",
			},
		},
		{
			name:    "explicit zeros",
			content: "slo:\n  window: 0s\n  error_ratio: {objective: 0}\n  latency: {threshold: 0s}\n",
			want: []string{
				"2: slo.window: must be positive, got 0s",
				"3: slo.error_ratio.objective: want a share of tool calls between 0 and 1 such as 0.99, got 0",
				"4: slo.latency.threshold: must be positive, got 0s",
			},
		},
		{
			name:    "short window",
			content: "slo:\n  window: 2d\n",
			want:    []string{"2: slo.window: must be at least 3d, the longest burn-rate window, got 2d"},
		},
		{
			name:    "disabled with settings",
			content: "slo:\n  error_ratio: {disabled: true, objective: 0.99}\n  latency: {disabled: true, threshold: 1s}\n",
			want: []string{
				"2: slo.error_ratio.disabled: a disabled objective has no objective; remove objective, or disabled",
				"3: slo.latency.disabled: a disabled objective has no objective or threshold; remove them, or disabled",
			},
		},
		{
			name:    "schema",
			content: "slo:\n  windw: 30d\n  latency: {threshold: 1.5d}\n",
			want: []string{
				"2: slo.windw: unknown key",
				`3: slo.latency.threshold: invalid duration "1.5d" (want a duration such as 30s or 5m)`,
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

func TestParseDuration(t *testing.T) {
	day := 24 * time.Hour
	for _, tt := range []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{in: "30d", want: 30 * day}, {in: "1w", want: 7 * day}, {in: "1d12h", want: 36 * time.Hour},
		{in: "2w3d", want: 17 * day}, {in: "0d", want: 0}, {in: "90s", want: 90 * time.Second},
		{in: "1h30m", want: 90 * time.Minute}, {in: "500ms", want: 500 * time.Millisecond},
		{in: "1.5d", err: true}, {in: "d", err: true}, {in: "30", err: true}, {in: "", err: true},
		{in: "-1d", err: true}, {in: "999999999d", err: true},
	} {
		got, err := parseDuration(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}
