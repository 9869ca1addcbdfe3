package tunnel_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/report"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
)

// seenRequest is what the upstream server was sent, and how it answered.
type seenRequest struct {
	Method, Path, Session, Protocol, ContentType string
}

// upstreamServer is a go-sdk Streamable HTTP server with mcpHandler's
// tools, recording every request it gets.
type upstreamServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []seenRequest
}

func (u *upstreamServer) requests() []seenRequest {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.seen)
}

// mcpHandler is a go-sdk Streamable HTTP handler with the tools echo, fail,
// roots and stream.
func mcpHandler(jsonResponse bool) http.Handler {
	server := mcp.NewServer(&mcp.Implementation{Name: "upstream-http", Version: "2.0.0"}, nil)
	type textIn struct {
		Text string `json:"text"`
	}
	text := func(s string) *mcp.CallToolResult {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
	}
	mcp.AddTool(server, &mcp.Tool{Name: "echo"}, func(_ context.Context, _ *mcp.CallToolRequest, in textIn) (*mcp.CallToolResult, any, error) {
		return text(in.Text), nil, nil
	})
	mcp.AddTool(server, &mcp.Tool{Name: "fail"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return nil, nil, errors.New("the tool failed")
	})
	mcp.AddTool(server, &mcp.Tool{Name: "roots"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		res, err := req.Session.ListRoots(ctx, nil)
		if err != nil {
			return nil, nil, err
		}
		var names []string
		for _, r := range res.Roots {
			names = append(names, r.URI)
		}
		return text(strings.Join(names, ",")), nil, nil
	})
	// stream logs a message and answers only once the client has it: if
	// the tunnel held events back, the call would never end.
	mcp.AddTool(server, &mcp.Tool{Name: "stream"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		if err := req.Session.Log(ctx, &mcp.LoggingMessageParams{Level: "info", Data: "before the answer"}); err != nil {
			return nil, nil, err
		}
		select {
		case <-streamAcks:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
		return text("streamed"), nil, nil
	})
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, &mcp.StreamableHTTPOptions{JSONResponse: jsonResponse})
}

func startUpstream(t testing.TB, jsonResponse bool) *upstreamServer {
	t.Helper()
	h := mcpHandler(jsonResponse)
	u := &upstreamServer{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		u.mu.Lock()
		u.seen = append(u.seen, seenRequest{r.Method, r.URL.Path, r.Header.Get("Mcp-Session-Id"),
			r.Header.Get("Mcp-Protocol-Version"), w.Header().Get("Content-Type")})
		u.mu.Unlock()
	}))
	t.Cleanup(u.Close)
	return u
}

// streamAcks carries the client's receipt of the stream tool's log message.
var streamAcks = make(chan struct{}, 1)

// mcpSession runs one client session against endpoint and returns every
// result as JSON, for comparing a direct run with one through the tunnel.
func mcpSession(t *testing.T, endpoint string, full bool) []string {
	t.Helper()
	ctx := t.Context()
	client := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "0.1"}, &mcp.ClientOptions{
		LoggingMessageHandler: func(context.Context, *mcp.LoggingMessageRequest) { streamAcks <- struct{}{} },
	})
	client.AddRoots(&mcp.Root{URI: "file:///srv", Name: "srv"})
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: &http.Client{Transport: transport}}, nil)
	if err != nil {
		t.Fatalf("connecting to %s: %v", endpoint, err)
	}
	var out []string
	add := func(v any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", endpoint, err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	add(cs.InitializeResult(), nil)
	add(cs.ListTools(ctx, nil))
	add(cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "héllo"}}))
	add(cs.CallTool(ctx, &mcp.CallToolParams{Name: "fail", Arguments: map[string]any{}}))
	if full {
		add(cs.CallTool(ctx, &mcp.CallToolParams{Name: "roots", Arguments: map[string]any{}}))
		add(nil, cs.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: "info"}))
		add(cs.CallTool(ctx, &mcp.CallToolParams{Name: "stream", Arguments: map[string]any{}}))
	}
	if err := cs.Close(); err != nil {
		t.Errorf("closing the session: %v", err)
	}
	return out
}

// startHTTPTunnel serves an HTTP tunnel to endpoint.
func startHTTPTunnel(t *testing.T, m *monitor.Monitor, endpoint string, opts tunnel.HTTPOptions) (*tunnel.HTTP, *httptest.Server) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h, err := tunnel.NewHTTP(m, endpoint, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, srv
}

func TestHTTPMatchesDirectAndTimesRequests(t *testing.T) {
	for _, tt := range []struct {
		name         string
		jsonResponse bool
		wantType     string
	}{
		{name: "event stream", wantType: "text/event-stream"},
		{name: "JSON", jsonResponse: true, wantType: "application/json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			full := !tt.jsonResponse // server requests and notifications need a stream
			up := startUpstream(t, tt.jsonResponse)
			direct := mcpSession(t, up.URL+"/mcp", full)

			m := newMonitor()
			h, proxy := startHTTPTunnel(t, m, up.URL+"/mcp", tunnel.HTTPOptions{})
			before := len(up.requests())
			through := mcpSession(t, proxy.URL+"/mcp", full)
			if diff := cmp.Diff(direct, through); diff != "" {
				t.Errorf("results through the tunnel differ from direct (-direct +tunnel):\n%s", diff)
			}

			reqs := up.requests()[before:]
			var session string
			var deleted, streamed bool
			for _, r := range reqs {
				if r.Session != "" {
					session = r.Session
				}
				deleted = deleted || (r.Method == http.MethodDelete && r.Session == session && session != "")
				streamed = streamed || (r.Method == http.MethodPost && strings.HasPrefix(r.ContentType, tt.wantType))
			}
			versioned := slices.ContainsFunc(reqs, func(r seenRequest) bool { return r.Protocol != "" })
			if session == "" || !deleted || !streamed || !versioned {
				t.Errorf("upstream saw session %q, DELETE %v, a %s response %v, MCP-Protocol-Version %v; want all:\n%+v",
					session, deleted, tt.wantType, streamed, versioned, reqs)
			}

			s := m.Sample(t.Context())
			methods := map[string]summary{}
			for name, l := range s.Methods {
				methods[name] = summary{l.Count, l.Errors, l.ErrorTypes}
			}
			want := map[string]summary{
				"server/discover": {Count: 1}, // the go-sdk client asks it first
				"initialize":      {Count: 1},
				"tools/list":      {Count: 1},
				"tools/call":      {Count: 2, Errors: 1, Types: map[string]uint64{"tool_error": 1}},
			}
			if full {
				want["tools/call"] = summary{Count: 4, Errors: 1, Types: map[string]uint64{"tool_error": 1}}
				want["logging/setLevel"] = summary{Count: 1}
				want["roots/list"] = summary{Count: 1}
			}
			if diff := cmp.Diff(want, withoutOther(methods)); diff != "" {
				t.Errorf("methods (-want +got):\n%s", diff)
			}
			if got := s.Tools["fail"]; got.Count != 1 || got.ErrorTypes["tool_error"] != 1 {
				t.Errorf("tool fail = %+v, want one tool_error", got)
			}
			checkCalls(t, m, monitor.TransportHTTP, countOf(s.Methods))
			if got := s.Gauge(tunnel.GaugeUpstreamUp); !got.OK || got.Value != 1 {
				t.Errorf("gauge %s = %+v, want 1", tunnel.GaugeUpstreamUp, got)
			}
			info := h.Info()
			if info.Server == nil || info.Server.Name != "upstream-http" || info.Server.Version != "2.0.0" || !info.Up {
				t.Errorf("Info() = %+v, want upstream-http 2.0.0, up", info)
			}
		})
	}
}

func TestHTTPOtherPathsPassUnmeasured(t *testing.T) {
	up := startUpstream(t, false)
	m := newMonitor()
	_, proxy := startHTTPTunnel(t, m, up.URL+"/mcp", tunnel.HTTPOptions{})
	res, err := http.Get(proxy.URL + "/.well-known/oauth-protected-resource")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	reqs := up.requests()
	if len(reqs) != 1 || reqs[0].Path != "/.well-known/oauth-protected-resource" {
		t.Errorf("upstream saw %+v, want the same path", reqs)
	}
	s := m.Sample(t.Context())
	methods := map[string]summary{}
	for name, l := range s.Methods {
		methods[name] = summary{l.Count, l.Errors, l.ErrorTypes}
	}
	if len(withoutOther(methods)) != 0 || len(s.Tools) != 0 {
		t.Errorf("a request off the endpoint was measured: %+v", methods)
	}
}

func TestHTTPRefusesLargeBodies(t *testing.T) {
	up := startUpstream(t, false)
	m := newMonitor()
	_, proxy := startHTTPTunnel(t, m, up.URL+"/mcp", tunnel.HTTPOptions{MaxBodySize: 1024})
	body := `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"` + strings.Repeat("p", 2048) + `"}}`
	res, err := http.Post(proxy.URL+"/mcp", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), `"code":-32600`) {
		t.Errorf("got %s %s, want 413 with a JSON-RPC error", res.Status, b)
	}
	if len(up.requests()) != 0 {
		t.Errorf("the large body reached the server")
	}
	if got := m.Sample(t.Context()).Custom.Counters[tunnel.CounterOversized]; got != 1 {
		t.Errorf("oversized = %v, want 1", got)
	}
}

func TestHTTPUnreachableServer(t *testing.T) {
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	m := newMonitor()
	_, proxy := startHTTPTunnel(t, m, gone.URL+"/mcp", tunnel.HTTPOptions{})
	res, err := http.Post(proxy.URL+"/mcp", "application/json",
		strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadGateway || !strings.Contains(string(b), "upstream MCP server unreachable") {
		t.Errorf("got %s %s, want 502 with a JSON-RPC error", res.Status, b)
	}
	alerts := alert.New(m, alert.Options{NoDefaultRules: true})
	if err := alerts.AddRule(tunnel.UpstreamDownRule()); err != nil {
		t.Fatal(err)
	}
	s := m.Sample(t.Context())
	if got := s.Methods["initialize"]; got.Count != 1 || got.ErrorTypes[tunnel.ErrorTypeUpstreamError] != 1 {
		t.Errorf("initialize = %+v, want one %s", got, tunnel.ErrorTypeUpstreamError)
	}
	if got := s.Gauge(tunnel.GaugeUpstreamUp); !got.OK || got.Value != 0 {
		t.Errorf("gauge %s = %+v, want 0", tunnel.GaugeUpstreamUp, got)
	}
	if h := report.HealthOf(s, alerts.Active()); h.Status != report.HealthCritical {
		t.Errorf("health = %s, want critical", h.Status)
	}
}

func TestNewHTTPRefusesBadURLs(t *testing.T) {
	for _, u := range []string{"", "ftp://host/mcp", "http://", "::"} {
		if _, err := tunnel.NewHTTP(newMonitor(), u, tunnel.HTTPOptions{}); err == nil {
			t.Errorf("NewHTTP(%q) succeeded", u)
		}
	}
}

func TestHTTPForwardsHeadersBothWays(t *testing.T) {
	var got http.Header
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.Header().Set("Mcp-Session-Id", "s-2")
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "id: 8\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{}}\n\n")
	}))
	defer up.Close()
	m := newMonitor()
	_, proxy := startHTTPTunnel(t, m, up.URL+"/mcp", tunnel.HTTPOptions{})
	req, _ := http.NewRequest(http.MethodGet, proxy.URL+"/mcp", nil)
	want := map[string]string{
		"Mcp-Session-Id":       "s-1",
		"Mcp-Protocol-Version": "2025-06-18",
		"Last-Event-Id":        "7",
		"Authorization":        "Bearer upstream-secret",
		"Accept":               "text/event-stream",
	}
	for k, v := range want {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for k, v := range want {
		if got.Get(k) != v {
			t.Errorf("upstream got %s = %q, want %q", k, got.Get(k), v)
		}
	}
	if res.Header.Get("Mcp-Session-Id") != "s-2" || !strings.Contains(string(body), "id: 8") {
		t.Errorf("client got session %q and body %q", res.Header.Get("Mcp-Session-Id"), body)
	}
	if n := m.Sample(t.Context()).Custom.Counters[tunnel.CounterServerNotifications]; n != 1 {
		t.Errorf("server notifications = %v, want 1 from the GET stream", n)
	}
	http.DefaultClient.CloseIdleConnections()
}

// A large body, a query and TLS reach the server as the client sent them,
// and are measured.
func TestHTTPForwardsLargeBodiesQueriesAndTLS(t *testing.T) {
	type seen struct {
		query string
		size  int
	}
	var mu sync.Mutex
	var got []seen
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seen{r.URL.RawQuery, len(b)})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, toolAnswer)
	})
	large := `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"pad":"` +
		strings.Repeat("p", 100<<10) + `"}}}`

	for _, tt := range []struct {
		name, query, body string
		tls               bool
	}{
		{name: "large body", body: large},
		{name: "query", query: "key=v", body: toolCall},
		{name: "https", tls: true, body: toolCall},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got = nil
			var up *httptest.Server
			opts := tunnel.HTTPOptions{}
			if tt.tls {
				up = httptest.NewTLSServer(handler)
				opts.Transport = up.Client().Transport
			} else {
				up = httptest.NewServer(handler)
			}
			defer up.Close()
			m := newMonitor()
			_, proxy := startHTTPTunnel(t, m, up.URL+"/mcp", opts)
			url := proxy.URL + "/mcp"
			if tt.query != "" {
				url += "?" + tt.query
			}
			res, err := http.Post(url, "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			http.DefaultClient.CloseIdleConnections()
			if string(b) != toolAnswer {
				t.Errorf("got %s", b)
			}
			if len(got) != 1 || got[0] != (seen{tt.query, len(tt.body)}) {
				t.Errorf("upstream saw %+v, want query %q and %d bytes", got, tt.query, len(tt.body))
			}
			if s := m.Sample(t.Context()).Methods["tools/call"]; s.Count != 1 || s.Errors != 0 {
				t.Errorf("tools/call = %+v", s)
			}
		})
	}
}

// TestHTTPCancelledRequestIsRecordedOnce: over HTTP the client's
// notifications/cancelled comes in a POST of its own; the request it names
// is recorded once, as cancelled as of the notice, even when the server,
// ignoring the cancellation, answers it afterwards, and a request whose
// response ends unanswered after a cancellation is recorded as cancelled
// too.
func TestHTTPCancelledRequestIsRecordedOnce(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch {
		case strings.Contains(string(body), `"notifications/cancelled"`):
			w.WriteHeader(http.StatusAccepted)
		case strings.Contains(string(body), `"id":1`): // answers anyway, once released
			<-release
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"content":[]}}`)
		case strings.Contains(string(body), `"id":2`): // never answers
			<-release
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	defer up.Close()
	m := newMonitor()
	_, proxy := startHTTPTunnel(t, m, up.URL+"/mcp", tunnel.HTTPOptions{})
	post := func(body string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, proxy.URL+"/mcp", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Session-Id", "S1")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return nil
		}
		_, _ = io.ReadAll(res.Body)
		res.Body.Close()
		return res
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		post(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow"}}`)
	}()
	done2 := make(chan struct{})
	go func() {
		defer close(done2)
		post(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"stuck"}}`)
	}()
	time.Sleep(50 * time.Millisecond) // both requests are with the server
	post(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}`)
	post(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2}}`)
	cancelledAt := time.Now()
	time.Sleep(100 * time.Millisecond)
	close(release)
	<-done
	<-done2
	calls := m.RecentCalls(0, 10)
	byTool := map[string][]monitor.Call{}
	for _, c := range calls {
		byTool[c.Tool] = append(byTool[c.Tool], c)
	}
	for _, tool := range []string{"slow", "stuck"} {
		got := byTool[tool]
		if len(got) != 1 || got[0].ErrorType != monitor.ErrorTypeCancelled {
			t.Errorf("%s: recorded %+v, want once, as cancelled", tool, got)
			continue
		}
		if end := got[0].Start.Add(got[0].Duration); end.After(cancelledAt.Add(20 * time.Millisecond)) {
			t.Errorf("%s: timed until %v, after the cancellation at %v", tool, end, cancelledAt)
		}
	}
}
