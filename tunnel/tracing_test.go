package tunnel_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/mcp-pba-tunnel/pbatunnel/capture"
	"github.com/mcp-pba-tunnel/pbatunnel/telemetry"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel/tunneltest"
)

const (
	callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	callerSpan  = "00f067aa0ba902b7"
	callerTP    = "00-" + callerTrace + "-" + callerSpan + "-01"
)

func tracer(t *testing.T) (*telemetry.Telemetry, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tel, err := telemetry.NewWith(telemetry.Options{}, rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tel, rec
}

func attrMap(kvs []attribute.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.Emit()
	}
	return m
}

// serverAndClient waits for the SERVER and CLIENT spans named name: the
// tunnels end them once the answer has gone on to the client.
func serverAndClient(t *testing.T, rec *tracetest.SpanRecorder, name string) (server, client sdktrace.ReadOnlySpan) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		for _, s := range rec.Ended() {
			if s.Name() != name {
				continue
			}
			switch s.SpanKind() {
			case trace.SpanKindServer:
				server = s
			case trace.SpanKindClient:
				client = s
			}
		}
		if server != nil && client != nil {
			return server, client
		}
		if time.Now().After(deadline) {
			t.Fatalf("no SERVER and CLIENT spans named %q among %d", name, len(rec.Ended()))
		}
	}
}

func traceparentOf(s sdktrace.ReadOnlySpan) string {
	return "00-" + s.SpanContext().TraceID().String() + "-" + s.SpanContext().SpanID().String() + "-01"
}

// TestStdioTracing: a request through the stdio tunnel is a SERVER span,
// child of the caller's context in _meta, and a CLIENT span, its child,
// whose context the server receives in place of the caller's; every
// other byte of the line is as the client sent it.
func TestStdioTracing(t *testing.T) {
	tel, rec := tracer(t)
	r := startStdio(t, tunnel.StdioOptions{Observers: tunnel.Observers{Telemetry: tel}})
	r.initialize()
	line := `{"jsonrpc":"2.0","id":"t-1","method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"},"_meta":{"progressToken":"p","traceparent":"` + callerTP + `"}}}`
	if w := r.call(`"t-1"`, line); w.Error != nil {
		t.Fatalf("echo: %+v", w.Error)
	}
	server, client := serverAndClient(t, rec, "tools/call echo")
	if server.Parent().TraceID().String() != callerTrace || server.Parent().SpanID().String() != callerSpan {
		t.Errorf("SERVER span's parent %v, want the caller's", server.Parent())
	}
	if client.Parent().SpanID() != server.SpanContext().SpanID() {
		t.Errorf("CLIENT span's parent %v, want the SERVER span %v", client.Parent().SpanID(), server.SpanContext().SpanID())
	}
	a := attrMap(server.Attributes())
	if a[telemetry.AttrRequestID] != "t-1" || a[telemetry.AttrNetworkTransport] != "pipe" || a[telemetry.AttrToolName] != "echo" ||
		a[telemetry.AttrProtocol] != "2025-06-18" { // as the server's initialize answer agreed
		t.Errorf("SERVER span attributes %v", a)
	}
	want := strings.Replace(line, callerTP, traceparentOf(client), 1)
	var got string
	for _, l := range strings.Split(string(r.recorded(tunneltest.Received)), "\n") {
		if strings.Contains(l, `"t-1"`) {
			got = l
		}
	}
	if got != want {
		t.Errorf("the server received\n%s\nwant\n%s", got, want)
	}
	// The call log names the SERVER span.
	for _, c := range r.m.RecentCalls(0, 10) {
		if c.Method == "tools/call" && (hex.EncodeToString(c.TraceID[:]) != callerTrace || c.SpanID != server.SpanContext().SpanID()) {
			t.Errorf("call log trace %x/%x", c.TraceID, c.SpanID)
		}
	}
}

// TestStdioTracingEscapedTraceparent: a traceparent spelled with escapes
// names the caller's span as the plain one does, and the server receives
// the tunnel's in its place.
func TestStdioTracingEscapedTraceparent(t *testing.T) {
	tel, rec := tracer(t)
	r := startStdio(t, tunnel.StdioOptions{Observers: tunnel.Observers{Telemetry: tel}})
	r.initialize()
	line := `{"jsonrpc":"2.0","id":"e-1","method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"},"_meta":{"traceparent":"\u0030` + callerTP[1:] + `"}}}`
	if w := r.call(`"e-1"`, line); w.Error != nil {
		t.Fatalf("echo: %+v", w.Error)
	}
	server, client := serverAndClient(t, rec, "tools/call echo")
	if server.Parent().TraceID().String() != callerTrace || server.Parent().SpanID().String() != callerSpan {
		t.Errorf("SERVER span's parent %v, want the caller's", server.Parent())
	}
	if !bytes.Contains(r.recorded(tunneltest.Received), []byte(`"traceparent":"`+traceparentOf(client)+`"`)) {
		t.Errorf("the server did not receive the CLIENT span's context:\n%s", r.recorded(tunneltest.Received))
	}
}

// TestStdioTracingWithoutMeta: a request without _meta gets one, as the
// first member of its params; a trace starts at the tunnel.
func TestStdioTracingWithoutMeta(t *testing.T) {
	tel, rec := tracer(t)
	r := startStdio(t, tunnel.StdioOptions{Observers: tunnel.Observers{Telemetry: tel}})
	r.initialize()
	if got := r.toolText("5", "echo", `{"text":"x"}`); got != "x" {
		t.Fatalf("echo %q", got)
	}
	server, client := serverAndClient(t, rec, "tools/call echo")
	if server.Parent().IsValid() {
		t.Errorf("a SERVER span with no caller has parent %v", server.Parent())
	}
	want := `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"_meta":{"traceparent":"` + traceparentOf(client) + `"},"name":"echo","arguments":{"text":"x"}}}`
	if !bytes.Contains(r.recorded(tunneltest.Received), []byte(want)) {
		t.Errorf("the server did not receive\n%s\nin\n%s", want, r.recorded(tunneltest.Received))
	}
}

// TestHTTPTracing: through the HTTP tunnel, a go-sdk upstream sees the
// CLIENT span's context in _meta, and the CLIENT span names the upstream.
func TestHTTPTracing(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []string
	)
	server := mcp.NewServer(&mcp.Implementation{Name: "traced-upstream", Version: "1"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "echo"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		mu.Lock()
		seen = append(seen, req.Params.GetMeta()["traceparent"].(string))
		mu.Unlock()
		// A request of the server's, on the call's stream, traced too.
		if _, err := req.Session.ListRoots(ctx, nil); err != nil {
			return nil, nil, err
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "ok"}}}, nil, nil
	})
	up := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil))
	defer up.Close()
	tel, rec := tracer(t)
	u, _ := url.Parse(up.URL)
	_, tun := startHTTPTunnel(t, newMonitor(), up.URL+"/mcp", tunnel.HTTPOptions{Observers: tunnel.Observers{Telemetry: tel, Upstream: u.Host}})
	ctx := context.Background()
	mc := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil)
	mc.AddRoots(&mcp.Root{URI: "file:///srv"})
	cs, err := mc.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: tun.URL + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{}, Meta: mcp.Meta{"traceparent": callerTP}}); err != nil {
		t.Fatal(err)
	}
	srv, client := serverAndClient(t, rec, "tools/call echo")
	rootsSrv, rootsClient := serverAndClient(t, rec, "roots/list")
	if rootsClient.Parent().SpanID() != rootsSrv.SpanContext().SpanID() {
		t.Errorf("roots/list CLIENT span's parent %v, want its SERVER span", rootsClient.Parent())
	}
	// The SERVER span's peer is the one that sent the request: the upstream.
	if a := attrMap(rootsSrv.Attributes()); a[telemetry.AttrSession] == "" || a[telemetry.AttrClientAddress] != u.Hostname() || a[telemetry.AttrServerAddress] != "" {
		t.Errorf("roots/list SERVER span attributes %v", a)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != traceparentOf(client) {
		t.Errorf("the upstream saw %v, want the CLIENT span's %s", seen, traceparentOf(client))
	}
	if srv.Parent().SpanID().String() != callerSpan {
		t.Errorf("SERVER span's parent %v", srv.Parent())
	}
	host, port, _ := strings.Cut(u.Host, ":")
	if a := attrMap(client.Attributes()); a[telemetry.AttrServerAddress] != host || a[telemetry.AttrServerPort] != port || a[telemetry.AttrNetworkTransport] != "tcp" {
		t.Errorf("CLIENT span attributes %v", a)
	}
	if a := attrMap(srv.Attributes()); a[telemetry.AttrClientAddress] != "127.0.0.1" || a[telemetry.AttrSession] == "" {
		t.Errorf("SERVER span attributes %v", a)
	}
}

// TestTracingPayloadsAreRedacted: with payload capture on, the proxy's
// spans carry a tool call's arguments and result as the call log keeps
// them, the secret redacted; never as they came.
func TestTracingPayloadsAreRedacted(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tel, err := telemetry.NewWith(telemetry.Options{CapturePayloads: true}, rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := startStdio(t, tunnel.StdioOptions{Observers: tunnel.Observers{Telemetry: tel, Payloads: capture.New(capture.Options{})}})
	r.initialize()
	if got := r.toolText("3", "echo", `{"text":"hi","password":"hunter2"}`); got != "hi" {
		t.Fatalf("echo %q", got)
	}
	server, client := serverAndClient(t, rec, "tools/call echo")
	for _, s := range []sdktrace.ReadOnlySpan{server, client} {
		a := attrMap(s.Attributes())
		if args := a[telemetry.AttrToolArguments]; strings.Contains(args, "hunter2") || !strings.Contains(args, `"password":"[redacted]"`) {
			t.Errorf("%v span arguments %q", s.SpanKind(), args)
		}
		if res := a[telemetry.AttrToolResult]; !strings.Contains(res, `"text":"hi"`) {
			t.Errorf("%v span result %q", s.SpanKind(), res)
		}
	}
}

// TestMetricsOnlyChangesNoByte: with spans off (metrics alone), the
// request goes on exactly as the client sent it, its trace context too.
func TestMetricsOnlyChangesNoByte(t *testing.T) {
	tel, err := telemetry.NewWith(telemetry.Options{}, nil, sdkmetric.NewManualReader())
	if err != nil {
		t.Fatal(err)
	}
	r := startStdio(t, tunnel.StdioOptions{Observers: tunnel.Observers{Telemetry: tel}})
	r.initialize()
	line := `{"jsonrpc":"2.0","id":"m-1","method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"},"_meta":{"traceparent":"` + callerTP + `","tracestate":"a=1 , b=2","baggage":"k1=v1 , k2=v2"}}}`
	if w := r.call(`"m-1"`, line); w.Error != nil {
		t.Fatalf("echo: %+v", w.Error)
	}
	if !strings.Contains(string(r.recorded(tunneltest.Received)), line+"\n") {
		t.Errorf("the server did not receive the line as sent:\n%s", r.recorded(tunneltest.Received))
	}
}

// TestTracingNeverPassesTheLineLimit: a request that the trace context
// would take past the size the tunnel holds goes on unchanged.
func TestTracingNeverPassesTheLineLimit(t *testing.T) {
	tel, _ := tracer(t)
	r := startStdio(t, tunnel.StdioOptions{MaxLineSize: 1024, Observers: tunnel.Observers{Telemetry: tel}})
	r.initialize()
	line := `{"jsonrpc":"2.0","id":"big","method":"tools/call","params":{"name":"echo","arguments":{"text":"` + strings.Repeat("x", 910) + `"}}}`
	if len(line) > 1024 || len(line)+80 < 1024 {
		t.Fatalf("the line is %d bytes; the test wants it just under the limit", len(line))
	}
	if w := r.call(`"big"`, line); w.Error != nil {
		t.Fatalf("echo: %+v", w.Error)
	}
	if !strings.Contains(string(r.recorded(tunneltest.Received)), line+"\n") {
		t.Error("the line near the limit was rewritten")
	}
}

// TestUntimedRequestsEndTheirSpans: a request whose id is already
// waiting is relayed but not timed; its spans end all the same.
func TestUntimedRequestsEndTheirSpans(t *testing.T) {
	tel, rec := tracer(t)
	r := startStdio(t, tunnel.StdioOptions{Observers: tunnel.Observers{Telemetry: tel}})
	r.initialize()
	r.send(`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"slow","arguments":{"ms":200}}}`)
	r.send(`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo","arguments":{"text":"again"}}}`)
	r.response("9")
	r.response("9")
	// Spans reach the recorder as they end: the untimed echo's two are
	// there beside the slow call's and initialize's.
	names := map[string]int{}
	for _, s := range rec.Ended() {
		names[s.Name()]++
	}
	if want := map[string]int{"initialize": 2, "notifications/initialized": 2, "tools/call slow": 2, "tools/call echo": 2}; !maps.Equal(names, want) {
		t.Errorf("ended spans %v, want %v", names, want)
	}
}

// TestHTTPTracingFromHeaders: a client that names its context in the
// HTTP headers only is the parent of the proxy's SERVER span.
func TestHTTPTracingFromHeaders(t *testing.T) {
	up := httptest.NewServer(mcpHandler(false))
	defer up.Close()
	tel, rec := tracer(t)
	_, tun := startHTTPTunnel(t, newMonitor(), up.URL+"/mcp", tunnel.HTTPOptions{Observers: tunnel.Observers{Telemetry: tel}})
	ctx := context.Background()
	client := &http.Client{Transport: headerTransport{"traceparent": callerTP}}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil).
		Connect(ctx, &mcp.StreamableClientTransport{Endpoint: tun.URL + "/mcp", HTTPClient: client, DisableStandaloneSSE: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "x"}}); err != nil {
		t.Fatal(err)
	}
	srv, _ := serverAndClient(t, rec, "tools/call echo")
	if srv.Parent().TraceID().String() != callerTrace || srv.Parent().SpanID().String() != callerSpan {
		t.Errorf("SERVER span's parent %v, want the header's", srv.Parent())
	}
}

// headerTransport sets headers on every request.
type headerTransport map[string]string

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestStdioTracingServerRequestsAndNotifications: the server's requests
// to the client are traced as the client's are, sides swapped, and the
// client receives the CLIENT span's context; notifications both ways
// make their two spans, log messages none.
func TestStdioTracingServerRequestsAndNotifications(t *testing.T) {
	tel, rec := tracer(t)
	r := startStdio(t, tunnel.StdioOptions{Observers: tunnel.Observers{Telemetry: tel}})
	r.initialize()
	if got := r.toolText("7", "roots", `{}`); !strings.Contains(got, "file:///srv") {
		t.Fatalf("roots = %q", got)
	}
	r.toolText("8", "notify", `{}`)                                          // a log message
	r.toolText("9", "notify", `{"text":"notifications/tools/list_changed"}`) // a change

	server, client := serverAndClient(t, rec, "roots/list")
	if client.Parent().SpanID() != server.SpanContext().SpanID() || client.SpanContext().TraceID() != server.SpanContext().TraceID() {
		t.Errorf("roots/list CLIENT span's parent %v, want its SERVER span", client.Parent())
	}
	// The tools/call that asked is a trace of its own: the fake server
	// hands no context on.
	if a := attrMap(server.Attributes()); a[telemetry.AttrRequestID] != "srv-1" || a[telemetry.AttrMethod] != "roots/list" {
		t.Errorf("roots/list SERVER span attributes %v", a)
	}
	if client.EndTime().Before(client.StartTime()) || client.Status().Code != codes.Unset {
		t.Errorf("roots/list CLIENT span %v–%v, status %v", client.StartTime(), client.EndTime(), client.Status())
	}
	var asked string
	for _, l := range r.seen {
		if bytes.Contains(l, []byte(`"roots/list"`)) {
			asked = string(l)
		}
	}
	if want := `"params":{"_meta":{"traceparent":"` + traceparentOf(client) + `"}}`; !strings.Contains(asked, want) {
		t.Errorf("the client was asked\n%s\nwant it to carry %s", asked, want)
	}
	serverAndClient(t, rec, "notifications/initialized")
	serverAndClient(t, rec, "notifications/tools/list_changed")
	for _, s := range rec.Ended() {
		if s.Name() == "notifications/message" {
			t.Errorf("a log message made a span")
		}
	}
}

// TestHTTPAnswerBeforeSpansEnd: the HTTP tunnel relays the server's
// answer before it ends the call's spans and tells its observers, so that
// the client does not wait for them: here a span processor that holds
// the tool call's spans until released, which would hold the answer too
// were they ended first. For an answer in an event stream and in a JSON
// body.
func TestHTTPAnswerBeforeSpansEnd(t *testing.T) {
	for _, jsonResponse := range []bool{false, true} {
		t.Run(fmt.Sprintf("json=%v", jsonResponse), func(t *testing.T) {
			up := httptest.NewServer(mcpHandler(jsonResponse))
			defer up.Close()
			release := make(chan struct{})
			rec := tracetest.NewSpanRecorder()
			tel, err := telemetry.NewWith(telemetry.Options{}, holdingProcessor{rec, "tools/call echo", release}, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, tun := startHTTPTunnel(t, newMonitor(), up.URL+"/mcp", tunnel.HTTPOptions{Observers: tunnel.Observers{Telemetry: tel}})
			cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil).
				Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: tun.URL + "/mcp", DisableStandaloneSSE: true}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "x"}})
			close(release)
			if err != nil {
				t.Fatalf("the answer waited for the spans: %v", err)
			}
			serverAndClient(t, rec, "tools/call echo")
		})
	}
}

// holdingProcessor records spans, holding those named name until release
// is closed.
type holdingProcessor struct {
	*tracetest.SpanRecorder
	name    string
	release chan struct{}
}

func (p holdingProcessor) OnEnd(s sdktrace.ReadOnlySpan) {
	if s.Name() == p.name {
		<-p.release
	}
	p.SpanRecorder.OnEnd(s)
}

// TestHTTPCancelledServerRequestEndsOnce: a request of the server's that
// the server cancelled has its spans ended then; the client's DELETE of
// the session, which clears the session's requests, does not end them a
// second time (the same span ids exported twice).
func TestHTTPCancelledServerRequestEndsOnce(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			return // DELETE: 200
		}
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, `data: {"jsonrpc":"2.0","id":"r1","method":"roots/list"}`+"\n\n"+
			`data: {"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"r1"}}`+"\n\n"+
			`data: {"jsonrpc":"2.0","id":1,"result":{}}`+"\n\n")
	}))
	defer up.Close()
	tel, rec := tracer(t)
	_, tun := startHTTPTunnel(t, newMonitor(), up.URL+"/mcp", tunnel.HTTPOptions{Observers: tunnel.Observers{Telemetry: tel}})
	for _, method := range []string{http.MethodPost, http.MethodDelete} {
		req, err := http.NewRequest(method, tun.URL+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Mcp-Session-Id", "s1")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	if err := tel.ForceFlush(t.Context()); err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	for _, s := range rec.Ended() {
		if s.Name() == "roots/list" {
			ids[s.SpanContext().SpanID().String()]++
		}
	}
	if len(ids) != 2 {
		t.Errorf("roots/list spans %v, want its SERVER and CLIENT spans", ids)
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("span %s ended %d times", id, n)
		}
	}
}
