package dashboard

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// startTest serves a monitor with two tools and two samples on a free
// loopback port.
func startTest(t *testing.T, opts Options) (*monitor.Monitor, string) {
	t.Helper()
	m, _, base := startTestAlerts(t, opts)
	return m, base
}

// startTestAlerts is startTest with the alert engine judging the monitor,
// with the built-in rules as in serve, unless opts brings its own.
func startTestAlerts(t *testing.T, opts Options) (*monitor.Monitor, *alert.Engine, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	m := monitor.New(monitor.Options{DisableSystem: true})
	if opts.Alerts == nil {
		opts.Alerts = alert.New(m, alert.Options{})
	}
	m.Sample(ctx)
	m.RecordToolUsage("enhanced_memory", 23*time.Millisecond, true)
	m.RecordToolUsage("code_analysis", 150*time.Millisecond, false)
	m.Sample(ctx)
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
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
	return m, opts.Alerts, "http://" + s.Addr()
}

func get(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

func TestRoutes(t *testing.T) {
	_, base := startTest(t, Options{})
	tests := []struct {
		method, path string
		status       int
		ctype        string
		contains     string
	}{
		{"GET", "/api/metrics", 200, "application/json", `"system_overview"`},
		{"GET", "/api/metrics?format=json", 200, "application/json", `"tool_metrics"`},
		{"GET", "/api/metrics?format=text", 200, "text/plain", "enhanced_memory"},
		{"GET", "/api/metrics?format=prometheus", 200, "text/plain", "mcp_server_operation_duration_seconds"},
		{"GET", "/api/metrics?format=xml", 400, "application/json", `"error":"unknown format`},
		{"GET", "/api/metrics?fromat=json", 400, "application/json", `unknown query parameter \"fromat\"`},
		{"GET", "/api/health", 200, "application/json", `"metrics_summary"`},
		{"GET", "/api/tools", 200, "application/json", `"code_analysis":{"call_count":1`},
		{"GET", "/api/alerts", 200, "application/json", `"active":[`},
		{"GET", "/api/history?metric=cpu_usage_percent&since=5m", 200, "application/json", `"times":[`},
		{"GET", "/api/history", 400, "application/json", "metric is required"},
		{"GET", "/api/history?metric=nope", 400, "application/json", "unknown metric"},
		{"GET", "/api/history?metric=cpu_usage_percent&since=-5m", 400, "application/json", "since must be"},
		{"GET", "/api/history?metric=cpu_usage_percent&since=banana", 400, "application/json", "since must be"},
		{"GET", "/api/config", 200, "application/json", `"thresholds"`},
		{"GET", "/metrics", 200, "text/plain", "pbatunnel_monitor_samples_total 2"},
		{"GET", "/api/nope", 404, "application/json", `"error":"no API route`},
		{"GET", "/nope", 404, "application/json", `"error":"not found`},
		{"POST", "/api/metrics", 405, "application/json", "method POST not allowed"},
		{"DELETE", "/api/health", 405, "application/json", "not allowed"},
		{"GET", "/", 200, "text/html", "<html"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, base+tt.path, nil)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.status {
				t.Errorf("status %d, want %d: %s", res.StatusCode, tt.status, body)
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.ctype) {
				t.Errorf("content type %q, want %q", ct, tt.ctype)
			}
			if !strings.Contains(string(body), tt.contains) {
				t.Errorf("body lacks %q:\n%.600s", tt.contains, body)
			}
			for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options"} {
				if res.Header.Get(h) == "" {
					t.Errorf("no %s header", h)
				}
			}
			if strings.HasPrefix(tt.ctype, "application/json") && !json.Valid(body) {
				t.Errorf("invalid JSON: %s", body)
			}
		})
	}
}

func TestHistoryColumns(t *testing.T) {
	m, base := startTest(t, Options{})
	m.Gauge("queue").Set(3)
	m.Sample(context.Background())
	_, body := get(t, base+"/api/history?metric=custom.queue&metric=tool.code_analysis.error_rate_percent")
	var h historyResponse
	if err := json.Unmarshal(body, &h); err != nil {
		t.Fatal(err)
	}
	if len(h.Times) != 3 || len(h.Values) != 2 || len(h.Values[0]) != 3 {
		t.Fatalf("history %s", body)
	}
	if h.Values[0][0] != nil || h.Values[0][2] == nil || *h.Values[0][2] != 3 {
		t.Errorf("custom.queue column %s", body)
	}
}

func TestAuthToken(t *testing.T) {
	_, base := startTest(t, Options{AuthToken: "s3cret"})
	for _, tt := range []struct {
		path   string
		header []string
		status int
	}{
		{"/api/metrics", nil, 401},
		{"/api/metrics", []string{"Authorization", "Bearer wrong"}, 401},
		{"/api/metrics", []string{"Authorization", "Bearer s3cret"}, 200},
		// RFC 7235: the scheme is case-insensitive.
		{"/api/metrics", []string{"Authorization", "bearer s3cret"}, 200},
		{"/api/metrics", []string{"Authorization", "BEARER  s3cret"}, 200},
		{"/api/metrics", []string{"Authorization", "Basic s3cret"}, 401},
		{"/api/metrics", []string{"Authorization", "Bearer"}, 401},
		{"/api/metrics", []string{"Authorization", "Bearers3cret"}, 401},
		{"/metrics", nil, 401},
		{"/api/stream", nil, 401},
		{"/api/health", nil, 200}, // probes need no secret
		{"/", nil, 200},           // the page holds no data and asks for the token
	} {
		res, body := get(t, base+tt.path, tt.header...)
		if res.StatusCode != tt.status {
			t.Errorf("%s %v: status %d, want %d: %s", tt.path, tt.header, res.StatusCode, tt.status, body)
		}
	}
}

// TestForeignHostRefusedOnEveryRoute drives each route as a DNS-rebinding
// page would, with a Host or Origin that is not loopback: none may answer,
// the open ones and the mounted ones included, with a token or without.
func TestForeignHostRefusedOnEveryRoute(t *testing.T) {
	mounted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	for _, token := range []string{"", "s3cret"} {
		_, base := startTest(t, Options{AuthToken: token, AllowedHosts: []string{"dash.example.com"}, Mount: map[string]http.Handler{"/mcp": mounted}})
		for _, path := range []string{"/", "/static/app.js", "/api/health", "/api/metrics", "/api/config", "/api/tools", "/api/history", "/api/stream", "/metrics", "/mcp", "/nowhere"} {
			for _, tt := range []struct {
				host, origin string
				refused      bool
			}{
				{host: "rebind.evil.com", refused: true},
				{host: "rebind.evil.com:8080", refused: true},
				{origin: "http://evil.com", refused: true},
				{host: "dash.example.com"},
				{origin: "https://dash.example.com"},
			} {
				req, err := http.NewRequest(http.MethodGet, base+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				if tt.host != "" {
					req.Host = tt.host
				}
				if tt.origin != "" {
					req.Header.Set("Origin", tt.origin)
				}
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var body []byte
				if res.StatusCode == http.StatusForbidden {
					body, _ = io.ReadAll(res.Body) // /api/stream, allowed, never ends
				}
				res.Body.Close()
				if got := res.StatusCode == http.StatusForbidden; got != tt.refused {
					t.Errorf("token %q, %s host %q origin %q: status %d: %s", token, path, tt.host, tt.origin, res.StatusCode, body)
					continue
				}
				if tt.refused && !strings.Contains(string(body), "--allowed-host") {
					t.Errorf("%s: the refusal does not name the flag that allows it: %s", path, body)
				}
			}
		}
	}
}

func TestStartRefusesOpenAddressWithoutToken(t *testing.T) {
	m := monitor.New(monitor.Options{DisableSystem: true})
	_, err := Start(context.Background(), m, Options{Addr: "0.0.0.0:0"})
	if err == nil || !strings.Contains(err.Error(), "auth token") {
		t.Fatalf("err = %v", err)
	}
}

func TestPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	m := monitor.New(monitor.Options{DisableSystem: true})
	_, err = Start(context.Background(), m, Options{Addr: ln.Addr().String()})
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "port "+port+" is already in use") || !strings.Contains(err.Error(), "--addr") {
		t.Fatalf("err = %v", err)
	}
}

func TestStream(t *testing.T) {
	m, alerts, base := startTestAlerts(t, Options{})
	next := openStream(t, base)
	// A new client gets the latest sample at once.
	e := next()
	if e[0] != "sample" || !strings.Contains(e[1], `"system_overview"`) {
		t.Fatalf("first event %q", e)
	}
	// Two consecutive samples arrive as two events, in order.
	seqOf := func(data string) uint64 {
		var r struct {
			MonitoringInfo struct {
				SamplesTaken uint64 `json:"samples_taken"`
			} `json:"monitoring_info"`
		}
		if err := json.Unmarshal([]byte(data), &r); err != nil {
			t.Fatal(err)
		}
		return r.MonitoringInfo.SamplesTaken
	}
	first := seqOf(e[1])
	for want := first + 1; want <= first+2; want++ {
		m.Sample(context.Background())
		e = next()
		if e[0] != "sample" || seqOf(e[1]) != want {
			t.Fatalf("event %q, want sample %d", e[0], want)
		}
	}
	// An alert transition arrives as an alert event.
	if err := alerts.AddRule(alert.Rule{Name: "q", Metric: "custom.q", Warning: alert.Ptr(1)}); err != nil {
		t.Fatal(err)
	}
	m.Gauge("q").Set(5)
	m.Sample(context.Background())
	for {
		e = next()
		if e[0] == "alert" {
			break
		}
	}
	var a alert.Alert
	if err := json.Unmarshal([]byte(e[1]), &a); err != nil || a.Rule != "q" || a.Transition != alert.TransitionFiring {
		t.Fatalf("alert event %s (%v)", e[1], err)
	}
}

// TestStalledBodyIsCutOnRefusedRequestsToo sends a forged Host with a body
// that never ends: the refusal must not leave the connection held.
func TestStalledBodyIsCutOnRefusedRequestsToo(t *testing.T) {
	mounted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.ReadAll(r.Body) })
	for _, host := range []string{"rebind.evil.com", "127.0.0.1"} {
		_, base := startTest(t, Options{BodyTimeout: 200 * time.Millisecond, Mount: map[string]http.Handler{"/mcp": mounted}})
		conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, "POST /mcp HTTP/1.1\r\nHost: "+host+"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"); err != nil {
			t.Fatal(err)
		}
		// Generous: the point is that the server lets go at all.
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		b, err := io.ReadAll(conn)
		if err != nil {
			t.Errorf("Host %s: the connection is still held: %v (read %q)", host, err, b)
		}
	}
}

// openStream connects to /api/stream and returns a function that gives the
// next event as its name and data, failing the test when none comes.
func openStream(t *testing.T, base string) (next func() [2]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/stream", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	events := make(chan [2]string)
	go func() {
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(nil, 1<<20)
		var name string
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				name = v
			}
			if v, ok := strings.CutPrefix(line, "data: "); ok {
				select {
				case events <- [2]string{name, v}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return func() [2]string {
		t.Helper()
		select {
		case e := <-events:
			return e
		case <-ctx.Done():
			t.Fatal("no event")
		}
		return [2]string{}
	}
}
