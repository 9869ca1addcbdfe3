package mcpserver_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/mcp-pba-tunnel/pbatunnel/mcpserver"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/telemetry"
)

const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"

func tracedServer(t *testing.T) (*mcp.Server, *monitor.Monitor, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tel, err := telemetry.NewWith(telemetry.Options{}, rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := monitor.New(monitor.Options{DisableSystem: true})
	return mcpserver.New(mcpserver.Options{Monitor: m, Telemetry: tel}), m, rec
}

func spanAttrs(s interface{ Attributes() []attribute.KeyValue }) map[string]string {
	out := map[string]string{}
	for _, kv := range s.Attributes() {
		out[string(kv.Key)] = kv.Value.Emit()
	}
	return out
}

// TestServeSpansOverHTTP: a real client's tools/call with a traceparent
// in _meta is a SERVER span of the caller's trace, with the
// conventions' attributes, and the call log names its trace.
func TestServeSpansOverHTTP(t *testing.T) {
	srv, m, rec := tracedServer(t)
	h, err := mcpserver.HTTPHandler(srv, nil)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(h)
	defer hs.Close()
	ctx := context.Background()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "traced", Version: "1"}, nil).
		Connect(ctx, &mcp.StreamableClientTransport{Endpoint: hs.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: mcpserver.ToolPerformanceReport, Arguments: map[string]any{},
		Meta: mcp.Meta{"traceparent": "00-" + callerTrace + "-00f067aa0ba902b7-01"}}); err != nil {
		t.Fatal(err)
	}
	var span tracetest.SpanStub
	found := false
	for _, s := range rec.Ended() {
		if s.Name() == "tools/call "+mcpserver.ToolPerformanceReport {
			span, found = tracetest.SpanStubFromReadOnlySpan(s), true
		}
	}
	if !found {
		t.Fatalf("no tools/call span among %d", len(rec.Ended()))
	}
	if span.SpanKind != trace.SpanKindServer || span.Parent.TraceID().String() != callerTrace || span.Parent.SpanID().String() != "00f067aa0ba902b7" {
		t.Errorf("span kind %v, parent %v", span.SpanKind, span.Parent)
	}
	a := spanAttrs(span.Snapshot())
	for k, want := range map[string]string{
		telemetry.AttrMethod: "tools/call", telemetry.AttrToolName: mcpserver.ToolPerformanceReport,
		telemetry.AttrNetworkTransport: "tcp", telemetry.AttrClientAddress: "127.0.0.1", telemetry.AttrOperation: "execute_tool",
	} {
		if a[k] != want {
			t.Errorf("%s = %q, want %q (all: %v)", k, a[k], want, a)
		}
	}
	if a[telemetry.AttrSession] == "" || a[telemetry.AttrRequestID] == "" || a[telemetry.AttrProtocol] == "" {
		t.Errorf("session, request id or protocol missing: %v", a)
	}
	for _, c := range m.RecentCalls(0, 10) {
		if c.Method == "tools/call" && hex.EncodeToString(c.TraceID[:]) != callerTrace {
			t.Errorf("the call log's trace id %x, want %s", c.TraceID, callerTrace)
		}
	}
}

// TestServeSpansOverStdio: over stdio a request's span has its id and
// the pipe transport; a call to an unknown tool is an error span.
func TestServeSpansOverStdio(t *testing.T) {
	srv, _, rec := tracedServer(t)
	in := initLine + "\n" + initialized + "\n" +
		`{"jsonrpc":"2.0","id":"q-9","method":"tools/call","params":{"name":"nope","arguments":{},"_meta":{"traceparent":"00-` + callerTrace + `-00f067aa0ba902b7-01"}}}` + "\n"
	serveLines(t, srv, nil, in)
	var got []string
	for _, s := range rec.Ended() {
		got = append(got, s.Name())
		if s.Name() != "tools/call nope" {
			continue
		}
		a := spanAttrs(tracetest.SpanStubFromReadOnlySpan(s).Snapshot())
		if a[telemetry.AttrRequestID] != "q-9" || a[telemetry.AttrNetworkTransport] != "pipe" || a[telemetry.AttrSession] != "" ||
			a[telemetry.AttrErrorType] == "" || s.Parent().TraceID().String() != callerTrace {
			t.Errorf("stdio span attributes %v, parent %v", a, s.Parent())
		}
		return
	}
	t.Fatalf("no tools/call nope span in %s", strings.Join(got, ", "))
}

// TestSpanProtocolIsTheAgreedOne: a client that asks for a version the
// server does not know is answered with another; the spans name the one
// agreed, not the one asked for.
func TestSpanProtocolIsTheAgreedOne(t *testing.T) {
	srv, _, rec := tracedServer(t)
	asked := strings.Replace(initLine, "2025-06-18", "2099-01-01", 1)
	got, _ := serveLines(t, srv, nil, asked+"\n"+initialized+"\n"+`{"jsonrpc":"2.0","id":2,"method":"ping"}`+"\n")
	var agreed struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	if err := json.Unmarshal(byID(t, got)["1"].Result, &agreed); err != nil || agreed.ProtocolVersion == "" || agreed.ProtocolVersion == "2099-01-01" {
		t.Fatalf("initialize answered %s (%v)", byID(t, got)["1"].Result, err)
	}
	for _, s := range rec.Ended() {
		if s.Name() != "ping" && s.Name() != "initialize" {
			continue
		}
		if v := spanAttrs(tracetest.SpanStubFromReadOnlySpan(s).Snapshot())[telemetry.AttrProtocol]; v != agreed.ProtocolVersion {
			t.Errorf("%s span: mcp.protocol.version %q, want the agreed %q", s.Name(), v, agreed.ProtocolVersion)
		}
	}
}
