package tunnel_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.opentelemetry.io/otel/attribute"
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

// serverAndClient returns the SERVER and CLIENT spans of name.
func serverAndClient(t *testing.T, rec *tracetest.SpanRecorder, name string) (server, client sdktrace.ReadOnlySpan) {
	t.Helper()
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
	if server == nil || client == nil {
		t.Fatalf("no SERVER and CLIENT spans named %q among %d", name, len(rec.Ended()))
	}
	return server, client
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
	mcp.AddTool(server, &mcp.Tool{Name: "echo"}, func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		mu.Lock()
		seen = append(seen, req.Params.GetMeta()["traceparent"].(string))
		mu.Unlock()
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "ok"}}}, nil, nil
	})
	up := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil))
	defer up.Close()
	tel, rec := tracer(t)
	u, _ := url.Parse(up.URL)
	_, tun := startHTTPTunnel(t, newMonitor(), up.URL+"/mcp", tunnel.HTTPOptions{Observers: tunnel.Observers{Telemetry: tel, Upstream: u.Host}})
	ctx := context.Background()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil).Connect(ctx, &mcp.StreamableClientTransport{Endpoint: tun.URL + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{}, Meta: mcp.Meta{"traceparent": callerTP}}); err != nil {
		t.Fatal(err)
	}
	srv, client := serverAndClient(t, rec, "tools/call echo")
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
