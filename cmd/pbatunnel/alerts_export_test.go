package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// deployDir holds the Prometheus set-up kept in the repository.
const deployDir = "../../deploy/prometheus"

// regenerate is the command that rewrites the deployed rules file.
const regenerate = "PBATUNNEL_CONFIG= go run ./cmd/pbatunnel alerts export --format prometheus-rules -o deploy/prometheus/pbatunnel.rules.yml"

// exportRules runs "alerts export" in-process into dir/pbatunnel.rules.yml
// and returns its standard error.
func exportRules(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out := filepath.Join(dir, "pbatunnel.rules.yml")
	code, stdout, stderr := runCmd(t, append([]string{"alerts", "export", "--format", "prometheus-rules", "-o", out}, args...)...)
	if code != 0 || stdout != "" {
		t.Fatalf("alerts export %q: exit %d\nstdout: %s\nstderr: %s", args, code, stdout, stderr)
	}
	return stderr
}

// promtool runs promtool with args in dir and fails the test, with its
// output, unless it succeeds.
func promtool(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(testenv.Require(t, "promtool"), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestAlertsExportPromtool exports the rules of a config file, has the
// real promtool check them, and runs promtool's unit tests (under
// testdata/promrules) on the file written: every alert is shown firing and
// not firing, on series named as /metrics names them.
func TestAlertsExportPromtool(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name    string
		config  string   // under testdata/promrules; "" for none
		units   []string // promtool test files under testdata/promrules
		summary string   // the line on standard error
		leftOut []string // rules left out, as standard error and the file name them
	}{
		{
			name: "defaults", units: []string{"builtin.test.yml", "slo.test.yml"},
			summary: "26 alerting rules, 45 recording rules",
		},
		{
			name: "custom", config: "custom.yaml", units: []string{"custom.test.yml"},
			summary: "28 alerting rules, 48 recording rules",
			leftOut: []string{
				"rule store_p95 (query.p95_ms): store queries have no latency histogram on /metrics",
				"rule interval_errors (error_rate_last_interval_percent): it covers one sampling interval",
				"rule postgres_cpu (process.postgres.cpu_percent): watched processes are not on /metrics",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testenv.Require(t, "promtool")
			dir := t.TempDir()
			var args []string
			if tt.config != "" {
				args = []string{"--config", filepath.Join("testdata", "promrules", tt.config)}
			}
			stderr := exportRules(t, dir, args...)
			if !strings.Contains(stderr, "wrote "+filepath.Join(dir, "pbatunnel.rules.yml")+": "+tt.summary+"\n") {
				t.Errorf("stderr = %q, want the summary %q", stderr, tt.summary)
			}
			rules, err := os.ReadFile(filepath.Join(dir, "pbatunnel.rules.yml"))
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range tt.leftOut {
				if !strings.Contains(stderr, "left out "+l) {
					t.Errorf("stderr does not say %q:\n%s", l, stderr)
				}
				if !strings.Contains(strings.Join(strings.Fields(strings.ReplaceAll(string(rules), "\n#", "")), " "), "- "+l) {
					t.Errorf("the file's header does not say %q", l)
				}
			}
			if n := strings.Count(stderr, "left out"); n != len(tt.leftOut) {
				t.Errorf("%d rules left out, want %d:\n%s", n, len(tt.leftOut), stderr)
			}

			if out := promtool(t, dir, "check", "rules", "pbatunnel.rules.yml"); !strings.Contains(out, "SUCCESS") {
				t.Errorf("promtool check rules: %s", out)
			}
			for _, u := range tt.units {
				copyFile(t, filepath.Join("testdata", "promrules", u), filepath.Join(dir, u))
				if out := promtool(t, dir, "test", "rules", u); !strings.Contains(out, "SUCCESS") {
					t.Errorf("promtool test rules %s: %s", u, out)
				}
			}
		})
	}
}

// TestDeployedRulesAreCurrent keeps deploy/prometheus/pbatunnel.rules.yml
// what the export writes with no config file.
func TestDeployedRulesAreCurrent(t *testing.T) {
	clearEnv(t)
	code, got, stderr := runCmd(t, "alerts", "export", "--format", "prometheus-rules")
	if code != 0 {
		t.Fatalf("alerts export: exit %d: %s", code, stderr)
	}
	want, err := os.ReadFile(filepath.Join(deployDir, "pbatunnel.rules.yml"))
	if err != nil {
		t.Fatalf("%v; write it with:\n  %s", err, regenerate)
	}
	if got == string(want) {
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	i := 0
	for i < len(gl) && i < len(wl) && gl[i] == wl[i] {
		i++
	}
	line := func(ls []string) string {
		if i < len(ls) {
			return ls[i]
		}
		return "(end of file)"
	}
	t.Errorf("deploy/prometheus/pbatunnel.rules.yml differs from what the export writes now, from line %d:\n"+
		"  file:   %s\n  export: %s\nRegenerate it from the repository's root with:\n  %s",
		i+1, line(wl), line(gl), regenerate)
}

// TestDeployedPrometheusConfig has promtool check the deployed Prometheus
// config, which checks the rules file it names too. The config reads the
// scrape token from a file kept out of the repository: the check runs on a
// copy beside a stand-in token.
func TestDeployedPrometheusConfig(t *testing.T) {
	testenv.Require(t, "promtool")
	dir := t.TempDir()
	for _, name := range []string{"prometheus.yml", "pbatunnel.rules.yml"} {
		copyFile(t, filepath.Join(deployDir, name), filepath.Join(dir, name))
	}
	if err := os.WriteFile(filepath.Join(dir, "pbatunnel.token"), []byte("stand-in\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := promtool(t, dir, "check", "config", "prometheus.yml")
	if !strings.Contains(out, "SUCCESS: 1 rule files found") || !strings.Contains(out, "SUCCESS: 71 rules found") {
		t.Errorf("promtool check config:\n%s", out)
	}
}

// TestAlertsExportErrors checks that a config file export cannot honour is
// a usage error naming the key and what to write instead.
func TestAlertsExportErrors(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name, config string
		stderr       []string
	}{
		{
			name:   "threshold between bounds",
			config: "slo:\n  latency: {threshold: 250ms}\n",
			stderr: []string{":2: slo.latency.threshold: 250ms is not a bucket bound of mcp_server_operation_duration_seconds",
				"the nearest are 200ms and 500ms"},
		},
		{
			name:   "percentage objective",
			config: "slo:\n  error_ratio: {objective: 99.5}\n",
			stderr: []string{":2: slo.error_ratio.objective: want the share of tool calls that must succeed, between 0 and 1 such as 0.99, got 99.5 (a percentage? write 0.995)"},
		},
		{
			name:   "objective the fast page cannot reach",
			config: "slo:\n  latency: {objective: 0.9}\n",
			stderr: []string{"slo.latency.objective: 0.9 leaves an error budget of 0.1: the fast page fires at 14.4 times the budget, a ratio of 1.44"},
		},
		{
			name:   "unknown key",
			config: "slo:\n  errors: {objective: 0.99}\n",
			stderr: []string{":2: slo.errors: unknown key"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "pbatunnel.yaml", tt.config)
			code, stdout, stderr := runCmd(t, "alerts", "export", "--format", "prometheus-rules", "--config", path)
			if code != 2 || stdout != "" {
				t.Errorf("exit %d, stdout %q; want 2 and nothing", code, stdout)
			}
			for _, w := range tt.stderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr = %q\nwant it to contain %q", stderr, w)
				}
			}
			// alerts check finds the same problems.
			code, _, checked := runCmd(t, "alerts", "check", "--config", path)
			if code != 1 || !strings.Contains(checked, tt.stderr[0]) {
				t.Errorf("alerts check: exit %d, stderr %q", code, checked)
			}
		})
	}
}

// TestAlertsExportStdout writes to standard output when -o is not given,
// byte for byte what -o writes.
func TestAlertsExportStdout(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	exportRules(t, dir)
	code, stdout, stderr := runCmd(t, "alerts", "export", "--format", "prometheus-rules")
	if code != 0 || !strings.HasPrefix(stderr, "wrote standard output: ") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	file, err := os.ReadFile(filepath.Join(dir, "pbatunnel.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file, []byte(stdout)) {
		t.Error("standard output differs from the file -o writes")
	}
}
