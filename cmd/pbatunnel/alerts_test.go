package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// request is what a test receiver was sent.
type request struct {
	method, path, auth string
	body               []byte
}

// receiver is an HTTP endpoint standing in for a webhook receiver or an
// Alertmanager: it answers every request with status and passes it on.
type receiver struct {
	srv *httptest.Server
	got chan request
}

func newReceiver(t *testing.T, status int) *receiver {
	t.Helper()
	r := &receiver{got: make(chan request, 256)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		select {
		case r.got <- request{method: req.Method, path: req.URL.Path, auth: req.Header.Get("Authorization"), body: body}:
		default: // the test has seen enough
		}
		w.WriteHeader(status)
		if status >= 300 {
			io.WriteString(w, "boom")
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// next returns the next request, failing the test after waitLimit.
func (r *receiver) next(t *testing.T) request {
	t.Helper()
	select {
	case req := <-r.got:
		return req
	case <-time.After(waitLimit):
		t.Fatalf("%s received nothing within %s", r.srv.URL, waitLimit)
		return request{}
	}
}

// webhookPayload is the part of Alertmanager's webhook payload the tests
// look at.
type webhookPayload struct {
	Version  string `json:"version"`
	Status   string `json:"status"`
	Receiver string `json:"receiver"`
	Alerts   []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"alerts"`
}

func decodeWebhook(t *testing.T, req request) webhookPayload {
	t.Helper()
	var p webhookPayload
	if err := json.Unmarshal(req.body, &p); err != nil {
		t.Fatalf("webhook body is not JSON: %v\n%s", err, req.body)
	}
	return p
}

// runCmd runs pbatunnel in-process and returns its exit code and output.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAlertsCheck(t *testing.T) {
	clearEnv(t)
	good := writeFile(t, "good.yaml", `
interval: 10s
alerts:
  thresholds:
    throughput: {disabled: true}
  rules:
    - name: slow_memory_tool
      metric: tool.enhanced_memory.p95_ms
      warning: 250
      critical: 1000
    - metric: tool.*.error_rate_percent
      warning: 5
  webhooks:
    - url: https://alice:s3cret@hooks.example.com/pbatunnel
  alertmanager:
    url: http://127.0.0.1:9093
`)
	bad := writeFile(t, "bad.yaml", `alerts:
  rules:
    - name: slow_memory_tool
      metric: tool.enhanced_memory.p95_ms
      warning: 1000
      critical: 250
  webhooks:
    - url: ftp://alice:s3cret@hooks.example.com/
interval: 1ms
`)
	onlyLog := writeFile(t, "empty.yaml", "")
	tests := []struct {
		name           string
		args           []string
		env            string // PBATUNNEL_CONFIG
		code           int
		stdout, stderr string // exact
	}{
		{name: "valid", args: []string{"--config", good}, code: 0,
			stdout: good + ": ok (8 rules, 3 handlers)\n"},
		{name: "valid from the environment", env: good, code: 0,
			stdout: good + ": ok (8 rules, 3 handlers)\n"},
		{name: "empty file", args: []string{"--config", onlyLog}, code: 0,
			stdout: onlyLog + ": ok (7 rules, 1 handler)\n"},
		{name: "invalid", args: []string{"--config", bad}, code: 1, stderr: bad +
			":5: alerts.rules[0] (slow_memory_tool).warning: 1000 is beyond critical 250 for direction above\n" +
			bad + `:8: alerts.webhooks[0].url: scheme "ftp" is not http or https` + "\n" +
			bad + ":9: interval: must be at least 100ms, got 1ms\n" +
			bad + ": invalid (3 problems)\n"},
		{name: "flag wins over the environment", args: []string{"--config", bad}, env: good, code: 1,
			stderr: "__skip__"},
		{name: "missing file", args: []string{"--config", "/nonexistent/pbatunnel.yaml"}, code: 1,
			stderr: "open /nonexistent/pbatunnel.yaml: no such file or directory\n/nonexistent/pbatunnel.yaml: invalid (1 problem)\n"},
		{name: "no file named", code: 2,
			stderr: "pbatunnel alerts check: no config file: give --config FILE or set PBATUNNEL_CONFIG\n"},
		{name: "positional argument", args: []string{good}, code: 2,
			stderr: "pbatunnel alerts check: unexpected argument \"" + good + "\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PBATUNNEL_CONFIG", tt.env)
			code, stdout, stderr := runCmd(t, append([]string{"alerts", "check"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit code = %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			if stdout != tt.stdout {
				t.Errorf("stdout:\n got %q\nwant %q", stdout, tt.stdout)
			}
			if tt.stderr != "__skip__" && stderr != tt.stderr {
				t.Errorf("stderr:\n got %q\nwant %q", stderr, tt.stderr)
			}
			if strings.Contains(stdout+stderr, "s3cret") {
				t.Errorf("output shows a secret:\n%s%s", stdout, stderr)
			}
		})
	}
}

// durations masks the delivery times in "alerts test" output.
var durations = regexp.MustCompile(`\((<1ms|[0-9.]+[µmn]?s)\)`)

func TestAlertsTest(t *testing.T) {
	clearEnv(t)
	ok := newReceiver(t, http.StatusOK)
	fail := newReceiver(t, http.StatusInternalServerError)

	tests := []struct {
		name   string
		config string // "" for none
		args   []string
		code   int
		stdout string // durations masked as (D); a regular expression when it starts with ^
		stderr string // a substring
		level  string // the severity the receiver must see; "" when none is expected
		failed int    // requests the failing receiver must see
	}{
		{
			name: "every handler delivers",
			config: `alerts:
  webhooks:
    - url: ` + ok.srv.URL + `/hook
      headers: {Authorization: "Bearer s3cret-token"}
`,
			code:   0,
			stdout: "ok   log (D)\nok   webhook " + ok.srv.URL + "/hook (D)\n",
			stderr: "test warning alert from pbatunnel",
			level:  "warning",
		},
		{
			name: "a receiver fails",
			config: `alerts:
  log: false
  webhooks:
    - url: ` + ok.srv.URL + `/hook
      headers: {Authorization: "Bearer s3cret-token"}
    - url: ` + fail.srv.URL + `/fail
      retries: 0
`,
			args: []string{"--level", "critical"},
			code: 1,
			// The error's wording is package alert's; the status and body
			// are what matter here.
			stdout: "^" + regexp.QuoteMeta("ok   webhook "+ok.srv.URL+"/hook (D)\n"+
				"FAIL webhook "+fail.srv.URL+"/fail (D): posting webhook: ") + ".*status 500 Internal Server Error: boom\n$",
			stderr: "pbatunnel alerts test: 1 of 2 handlers failed\n",
			level:  "critical",
			failed: 1,
		},
		{
			name:   "no config: the log only",
			code:   0,
			stdout: "ok   log (D)\nonly the log handler is configured: it writes alerts to standard error and cannot fail; add alerts.webhooks or alerts.alertmanager to send them anywhere else\n",
			stderr: "level=WARN msg=\"test warning alert from pbatunnel",
		},
		{
			name:   "info level",
			args:   []string{"--level", "info"},
			code:   0,
			stdout: "__any__",
			stderr: "level=INFO msg=\"test info alert from pbatunnel",
		},
		{
			name:   "no handler at all",
			config: "alerts:\n  log: false\n",
			code:   1,
			stderr: "pbatunnel alerts test: no alert handlers configured: alerts.log is false and there are no alerts.webhooks or alerts.alertmanager\n",
		},
		{
			name:   "bad level",
			args:   []string{"--level", "loud"},
			code:   2,
			stderr: `invalid value "loud" for flag -level: want info, warning or critical, got "loud"`,
		},
		{
			name:   "bad timeout",
			args:   []string{"--timeout", "0s"},
			code:   2,
			stderr: "pbatunnel alerts test: --timeout must be positive, got 0s\n",
		},
		{
			name:   "invalid config",
			config: "alerts:\n  webhooks:\n    - url: hooks.example.com\n",
			code:   2,
			stderr: ":3: alerts.webhooks[0].url: want an absolute http or https URL",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"alerts", "test"}
			if tt.config != "" {
				args = append(args, "--config", writeFile(t, "pbatunnel.yaml", tt.config))
			}
			code, stdout, stderr := runCmd(t, append(args, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit code = %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			got := durations.ReplaceAllString(stdout, "(D)")
			switch {
			case tt.stdout == "__any__":
			case strings.HasPrefix(tt.stdout, "^"):
				if !regexp.MustCompile(tt.stdout).MatchString(got) {
					t.Errorf("stdout:\n got %q\nwant a match of %q", got, tt.stdout)
				}
			case got != tt.stdout:
				t.Errorf("stdout:\n got %q\nwant %q", got, tt.stdout)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tt.stderr)
			}
			if strings.Contains(stdout+stderr, "s3cret") {
				t.Errorf("output shows a secret:\n%s%s", stdout, stderr)
			}

			if tt.level != "" {
				req := ok.next(t)
				if req.method != http.MethodPost || req.path != "/hook" || req.auth != "Bearer s3cret-token" {
					t.Errorf("receiver got %s %s with Authorization %q, want POST /hook with the configured header",
						req.method, req.path, req.auth)
				}
				p := decodeWebhook(t, req)
				if p.Version != "4" || p.Status != "firing" || len(p.Alerts) != 1 {
					t.Fatalf("payload = %+v, want version 4, firing, one alert", p)
				}
				labels := p.Alerts[0].Labels
				for k, v := range map[string]string{"alertname": "pbatunnel_test", "synthetic": "true", "severity": tt.level} {
					if labels[k] != v {
						t.Errorf("label %s = %q, want %q (labels %v)", k, labels[k], v, labels)
					}
				}
			}
			for range tt.failed {
				if req := fail.next(t); req.method != http.MethodPost || req.path != "/fail" {
					t.Errorf("failing receiver got %s %s, want POST /fail", req.method, req.path)
				}
			}
			// Nothing more than expected: one POST per handler.
			select {
			case req := <-ok.got:
				t.Errorf("unexpected extra request to %s", req.path)
			case req := <-fail.got:
				t.Errorf("unexpected extra request to %s", req.path)
			default:
			}
		})
	}
}

func TestAlertsUsage(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		args           []string
		code           int
		stdout, stderr string // substrings; "" means empty
	}{
		{args: []string{"alerts"}, code: 2, stderr: "pbatunnel alerts: want a subcommand: check, test or export"},
		{args: []string{"alerts", "verify"}, code: 2, stderr: `pbatunnel alerts: unknown subcommand "verify": want check, test or export`},
		{args: []string{"alerts", "-h"}, code: 0, stdout: "pbatunnel alerts check [--config FILE]"},
		{args: []string{"alerts", "check", "-h"}, code: 0, stderr: "Usage: pbatunnel alerts check"},
		{args: []string{"alerts", "test", "--bogus"}, code: 2, stderr: "flag provided but not defined: -bogus"},
		{args: []string{"help", "alerts"}, code: 0, stdout: "pbatunnel alerts test [--config FILE] [--level LEVEL] [--timeout DURATION]"},
		{args: []string{"help", "alerts", "test"}, code: 0, stdout: "-level level"},
		{args: []string{"help", "alerts", "check"}, code: 0, stdout: "-config file"},
		{args: []string{"help", "alerts", "export"}, code: 0, stdout: "-rate-window duration"},
		{args: []string{"alerts", "export"}, code: 2, stderr: "--format is required: prometheus-rules"},
		{args: []string{"alerts", "export", "--format", "json"}, code: 2, stderr: `unknown --format "json": want prometheus-rules`},
		{args: []string{"alerts", "export", "--format", "prometheus-rules", "--rate-window", "0s"}, code: 2,
			stderr: "--rate-window must be at least 1s, got 0s"},
		{args: []string{"help", "alerts", "nope"}, code: 2, stderr: `unknown command "alerts nope"`},
		{args: []string{"help"}, code: 0, stdout: "alerts check   validate a config file"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCmd(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit code = %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			for _, c := range []struct{ stream, got, want string }{{"stdout", stdout, tt.stdout}, {"stderr", stderr, tt.stderr}} {
				if c.want == "" && c.got != "" || !strings.Contains(c.got, c.want) {
					t.Errorf("%s = %q, want %q", c.stream, c.got, c.want)
				}
			}
		})
	}
}

// TestServeNotifies runs serve with a rule that fires on the first sample
// and checks that the webhook and the Alertmanager hear of it, that the
// Alertmanager's re-push loop runs, and that every goroutine ends with the
// context.
func TestServeNotifies(t *testing.T) {
	clearEnv(t)
	hook := newReceiver(t, http.StatusOK)
	am := newReceiver(t, http.StatusOK)
	cfg := writeFile(t, "pbatunnel.yaml", `alerts:
  default_rules: false
  rules:
    - name: many_goroutines
      metric: goroutines  # a running Go program has at least one
      warning: 1
      advice: Nothing is wrong; the test wants an alert.
  webhooks:
    - url: `+hook.srv.URL+`/hook
  alertmanager:
    url: `+am.srv.URL+`
    resend_interval: 100ms
`)

	ignore := goleak.IgnoreCurrent()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stderr := newSyncBuffer()
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--interval", "1s", "--data-dir", t.TempDir(), "--config", cfg},
			io.Discard, stderr)
	}()

	p := decodeWebhook(t, hook.next(t))
	if len(p.Alerts) != 1 || p.Status != "firing" {
		t.Fatalf("webhook payload = %+v, want one firing alert", p)
	}
	want := map[string]string{"alertname": "many_goroutines", "metric": "goroutines", "severity": "warning"}
	got := p.Alerts[0].Labels
	for k, v := range want {
		if got[k] != v {
			t.Errorf("webhook label %s = %q, want %q (labels %v)", k, got[k], v, got)
		}
	}
	if got["synthetic"] != "" {
		t.Errorf("a real alert is labelled synthetic: %v", got)
	}
	if a := p.Alerts[0].Annotations["advice"]; a != "Nothing is wrong; the test wants an alert." {
		t.Errorf("advice annotation = %q", a)
	}

	// The first push comes from the notification, the next ones from the
	// re-push loop, since the alert keeps firing.
	for i := range 3 {
		req := am.next(t)
		var alerts []struct {
			Labels map[string]string `json:"labels"`
		}
		if err := json.Unmarshal(req.body, &alerts); err != nil {
			t.Fatalf("push %d: %v\n%s", i, err, req.body)
		}
		if req.method != http.MethodPost || req.path != "/api/v2/alerts" || len(alerts) != 1 ||
			alerts[0].Labels["alertname"] != "many_goroutines" {
			t.Fatalf("push %d: %s %s %s, want POST /api/v2/alerts of many_goroutines", i, req.method, req.path, req.body)
		}
	}

	cancel()
	select {
	case code := <-exited:
		if code != 0 {
			t.Errorf("exit code = %d, want 0", code)
		}
	case <-time.After(waitLimit):
		t.Fatalf("serve did not stop within %s of its context ending", waitLimit)
	}
	out := stderr.String()
	for _, w := range []string{
		"alert_rules=1 alert_handlers=3 ",
		`alert_handler_names="log, webhook ` + hook.srv.URL + `/hook, alertmanager ` + am.srv.URL + `"`,
		`level=WARN msg="warning many_goroutines: goroutines is `,
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	// Idle keep-alive connections hold client goroutines; closing the
	// servers ends them.
	hook.srv.Close()
	am.srv.Close()
	goleak.VerifyNone(t, ignore)
}

// TestHelpListsAlerts keeps the overview and the alerts usage in step.
func TestHelpListsAlerts(t *testing.T) {
	_, stdout, _ := runCmd(t, "help")
	for _, w := range []string{"alerts check", "alerts test", "alerts export"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("help lacks %q", w)
		}
	}
	var b bytes.Buffer
	printAlertsUsage(&b)
	if !strings.Contains(b.String(), "docs/ALERTS.md") {
		t.Errorf("alerts usage does not point to docs/ALERTS.md:\n%s", &b)
	}
}

// TestServeRejectsBadAlerts checks that serve refuses to start on an
// invalid alerts section, naming the rule and the field.
func TestServeRejectsBadAlerts(t *testing.T) {
	clearEnv(t)
	cfg := writeFile(t, "pbatunnel.yaml", "alerts:\n  rules:\n    - name: r\n      metric: goroutines\n      warning: 5\n      critical: 1\n")
	code, stdout, stderr := runCmd(t, "serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--config", cfg)
	if code != 2 {
		t.Errorf("exit code = %d, want 2\nstderr: %s", code, stderr)
	}
	want := "pbatunnel serve: loading config: " + cfg + ":5: alerts.rules[0] (r).warning: 5 is beyond critical 1 for direction above\n"
	if stderr != want || stdout != "" {
		t.Errorf("stdout %q, stderr:\n got %q\nwant %q", stdout, stderr, want)
	}
}
