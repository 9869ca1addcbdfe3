package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/report"
)

// serveMonitor serves m on a free loopback port until the test ends.
func serveMonitor(t *testing.T, m *monitor.Monitor, opts Options) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	opts.Addr = "127.0.0.1:0"
	s, err := Start(ctx, m, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := s.Wait(); err != nil {
			t.Errorf("server: %v", err)
		}
	})
	return "http://" + s.Addr()
}

// getJSON GETs url and decodes the answer into v.
func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	res, body := get(t, url)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: Content-Type %q: %s", url, ct, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("%s: %v: %s", url, err, body)
	}
	return res.StatusCode
}

// TestLivez checks that /livez follows the sampler alone: a firing
// critical alert (as when other programs load the host) makes /api/health
// 503 but leaves /livez 200; an overdue sample, or none at all, makes it
// 503 with the reason.
func TestLivez(t *testing.T) {
	tests := []struct {
		name       string
		samples    int
		interval   time.Duration
		opts       Options
		later      time.Duration // how far the probes' clock moves once serving
		critical   bool          // a critical alert fires
		wantStatus int
		wantError  string
		wantHealth int
	}{
		{name: "fresh sample", samples: 1, wantStatus: 200, wantHealth: 200},
		{name: "critical alert firing", samples: 1, critical: true, wantStatus: 200, wantHealth: 503},
		{name: "one sample missed", samples: 1, interval: time.Minute, later: 2 * time.Minute,
			wantStatus: 200, wantHealth: 200},
		{name: "sampler stuck", samples: 1, interval: time.Minute, later: 4 * time.Minute,
			wantStatus: 503, wantError: "the latest sample is 4m0s old, and one is due every 1m0s: the monitor's sampler is stuck or stopped",
			wantHealth: 200},
		{name: "stale after, set", samples: 1, opts: Options{StaleAfter: time.Second}, later: time.Minute,
			wantStatus: 503, wantError: "the latest sample is 1m0s old", wantHealth: 200},
		{name: "never sampled, just started", wantStatus: 200, wantHealth: 200},
		{name: "never sampled", later: time.Hour, wantStatus: 503,
			wantError: "no sample taken", wantHealth: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := monitor.New(monitor.Options{DisableSystem: true, Interval: tt.interval})
			tt.opts.Alerts = alert.New(m, alert.Options{NoDefaultRules: true})
			if tt.critical {
				m.Gauge("load").Set(100)
				if err := tt.opts.Alerts.AddRule(alert.Rule{Name: "load", Metric: "custom.load", Critical: alert.Ptr(50)}); err != nil {
					t.Fatal(err)
				}
			}
			for range tt.samples {
				m.Sample(context.Background())
			}
			var shift atomic.Int64
			tt.opts.now = func() time.Time { return time.Now().Add(time.Duration(shift.Load())) }
			// The token guards the data routes; the probes stay open.
			tt.opts.AuthToken = "s3cret"
			base := serveMonitor(t, m, tt.opts)
			shift.Store(int64(tt.later))

			var live liveResponse
			if got := getJSON(t, base+"/livez", &live); got != tt.wantStatus {
				t.Errorf("/livez: status %d, want %d: %+v", got, tt.wantStatus, live)
			}
			if tt.wantError == "" && (live.Status != "ok" || live.Error != "") {
				t.Errorf("/livez: %+v, want ok", live)
			}
			if tt.wantError != "" && (live.Status != "failing" || !strings.Contains(live.Error, tt.wantError)) {
				t.Errorf("/livez: %+v, want failing with %q", live, tt.wantError)
			}
			if (live.LastSample != "") != (tt.samples > 0) {
				t.Errorf("/livez: last_sample %q after %d samples", live.LastSample, tt.samples)
			}
			var health report.Health
			if got := getJSON(t, base+"/api/health", &health); got != tt.wantHealth {
				t.Errorf("/api/health: status %d, want %d: %+v", got, tt.wantHealth, health)
			}
		})
	}
}

// TestReadyz runs /readyz over HTTP with passing, failing, hanging and
// panicking checks: each failure is listed with its reason, a check that
// never answers fails at the timeout instead of holding the probe, and the
// probe needs no token.
func TestReadyz(t *testing.T) {
	// hung blocks until the test ends, deaf to its context, as a check
	// stuck in a system call would.
	hung := make(chan struct{})
	t.Cleanup(func() { close(hung) })
	ok := Check{Name: "store", Run: func(context.Context) error { return nil }}
	down := Check{Name: "upstream", Run: func(context.Context) error { return errors.New("upstream MCP server exited: exit status 3") }}
	waits := Check{Name: "store", Run: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }}
	deaf := Check{Name: "store", Run: func(context.Context) error { <-hung; return nil }}
	panics := Check{Name: "store", Run: func(context.Context) error { panic("broken") }}
	none := Check{Name: "store"}

	type result struct {
		name, err string // err "" means the check passed
	}
	tests := []struct {
		name   string
		checks []Check
		want   []result
	}{
		{name: "no checks"},
		{name: "all pass", checks: []Check{ok}, want: []result{{"store", ""}}},
		{name: "one fails", checks: []Check{ok, down},
			want: []result{{"store", ""}, {"upstream", "upstream MCP server exited: exit status 3"}}},
		{name: "hangs honouring its context", checks: []Check{waits, down},
			want: []result{{"store", "no answer within 50ms"}, {"upstream", "upstream MCP server exited"}}},
		{name: "hangs deaf to its context", checks: []Check{deaf, ok},
			want: []result{{"store", "no answer within 50ms"}, {"store", ""}}},
		{name: "panics", checks: []Check{panics}, want: []result{{"store", "check panicked: broken"}}},
		{name: "no function", checks: []Check{none}, want: []result{{"store", `check "store" has no function`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := monitor.New(monitor.Options{DisableSystem: true})
			m.Sample(context.Background())
			base := serveMonitor(t, m, Options{AuthToken: "s3cret", Ready: tt.checks, CheckTimeout: 50 * time.Millisecond})

			var ready readyResponse
			status := getJSON(t, base+"/readyz", &ready)
			failed := false
			for _, r := range tt.want {
				failed = failed || r.err != ""
			}
			wantStatus, wantWord := http.StatusOK, "ready"
			if failed {
				wantStatus, wantWord = http.StatusServiceUnavailable, "not_ready"
			}
			if status != wantStatus || ready.Status != wantWord {
				t.Errorf("status %d %q, want %d %q: %+v", status, ready.Status, wantStatus, wantWord, ready)
			}
			if len(ready.Checks) != len(tt.want) {
				t.Fatalf("checks %+v, want %d", ready.Checks, len(tt.want))
			}
			for i, w := range tt.want {
				c := ready.Checks[i]
				if c.Name != w.name || c.OK != (w.err == "") || !strings.Contains(c.Error, w.err) {
					t.Errorf("check %d: %+v, want %s failing with %q", i, c, w.name, w.err)
				}
				if w.err != "" && !strings.Contains(ready.Error, w.name+": "+w.err) {
					t.Errorf("error %q does not name %s: %s", ready.Error, w.name, w.err)
				}
			}
		})
	}
}

// TestProbesAnswerOnlyGet checks the probes' methods and parameters, as
// every other route's.
func TestProbesAnswerOnlyGet(t *testing.T) {
	_, base := startTest(t, Options{})
	for _, path := range []string{"/livez", "/readyz"} {
		res, err := http.Post(base+path, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST %s: %d, want 405", path, res.StatusCode)
		}
		if res, body := get(t, base+path+"?verbose=1"); res.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s?verbose=1: %d %s, want 400", path, res.StatusCode, body)
		}
	}
}
