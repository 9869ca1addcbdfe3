package tunnel_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/capture"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/record"
	"github.com/mcp-pba-tunnel/pbatunnel/telemetry"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel/tunneltest"
)

// The tunnel hands on its own trace context by writing it over the
// client's, in the bytes it read, when the two are as long. What it keeps
// of a request (the recording, the captured payload) is read before and
// must still be the client's.

// startRecorder runs a recorder into a file of its own until the test
// calls the function it returns, which gives the recorded lines.
func startRecorder(t *testing.T) (*record.Recorder, func() []record.Line) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rec.jsonl")
	recorder, err := record.Open(record.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- recorder.Run(ctx) }()
	t.Cleanup(stop)
	return recorder, func() []record.Line {
		stop()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		lines, _, err := record.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return lines
	}
}

// sentWith is the message the client sent (record.ToServer) holding
// marker, "" when none does.
func sentWith(lines []record.Line, marker string) string {
	for _, l := range lines {
		if l.Dir == record.ToServer && bytes.Contains(l.Message, []byte(marker)) {
			return string(l.Message)
		}
	}
	return ""
}

// capturedParams are what payload capture kept of the last call to
// method.
func capturedParams(m *monitor.Monitor, payloads *capture.Store, method string) string {
	var args string
	for _, c := range m.RecentCalls(0, 100) {
		if p, ok := payloads.Get(c.ID); ok && c.Method == method {
			args = p.Arguments.String()
		}
	}
	return args
}

// TestTracingRecordsWhatTheClientSent: the tunnel writes its own trace
// context over the client's in the bytes it read, and what it recorded
// of the request and captured of its arguments, or of a request's whole
// params, _meta too, is still the client's.
func TestTracingRecordsWhatTheClientSent(t *testing.T) {
	tel, rec := tracer(t)
	recorder, recorded := startRecorder(t)
	payloads := capture.New(capture.Options{})
	r := startStdio(t, tunnel.StdioOptions{Observers: tunnel.Observers{Telemetry: tel, Recorder: recorder, Payloads: payloads}})
	r.initialize()
	line := `{"jsonrpc":"2.0","id":"t-2","method":"tools/call","params":{"name":"echo","arguments":{"text":"kept"},"_meta":{"traceparent":"` + callerTP + `"}}}`
	if w := r.call(`"t-2"`, line); w.Error != nil {
		t.Fatalf("echo: %+v", w.Error)
	}
	_, client := serverAndClient(t, rec, "tools/call echo")
	if !bytes.Contains(r.recorded(tunneltest.Received), []byte(traceparentOf(client))) {
		t.Fatalf("the server did not receive the CLIENT span's context:\n%s", r.recorded(tunneltest.Received))
	}
	ping := `{"jsonrpc":"2.0","id":"t-3","method":"ping","params":{"_meta":{"traceparent":"` + callerTP + `"}}}`
	if w := r.call(`"t-3"`, ping); w.Error != nil {
		t.Fatalf("ping: %+v", w.Error)
	}
	_, pingClient := serverAndClient(t, rec, "ping")
	if !bytes.Contains(r.recorded(tunneltest.Received), []byte(traceparentOf(pingClient))) {
		t.Fatalf("the server did not receive the ping's CLIENT span's context:\n%s", r.recorded(tunneltest.Received))
	}
	r.closeInput()
	lines := recorded()
	if sent := sentWith(lines, `"t-2"`); sent != line {
		t.Errorf("recorded\n%s\nwant what the client sent\n%s", sent, line)
	}
	if sent := sentWith(lines, `"t-3"`); sent != ping {
		t.Errorf("recorded\n%s\nwant what the client sent\n%s", sent, ping)
	}
	if args := capturedParams(r.m, payloads, "tools/call"); args != `{"text":"kept"}` {
		t.Errorf("captured arguments %q", args)
	}
	if params := capturedParams(r.m, payloads, "ping"); !strings.Contains(params, callerTP) {
		t.Errorf("captured ping params %q; want the client's traceparent %s", params, callerTP)
	}
}

// TestHTTPTracingRecordsWhatTheClientSent: the same over HTTP, where the
// context is written over the client's in the POST body read: the
// upstream sees the tunnel's, the recording and the captured params the
// client's.
func TestHTTPTracingRecordsWhatTheClientSent(t *testing.T) {
	var (
		mu   sync.Mutex
		seen = map[string]string{} // method: the traceparent the upstream saw
	)
	server := mcp.NewServer(&mcp.Implementation{Name: "traced-upstream", Version: "1"}, nil)
	server.AddReceivingMiddleware(func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			if p := req.GetParams(); p != nil {
				if tp, ok := p.GetMeta()[telemetry.MetaTraceparent].(string); ok {
					mu.Lock()
					seen[method] = tp
					mu.Unlock()
				}
			}
			return next(ctx, method, req)
		}
	})
	up := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil))
	defer up.Close()
	tel, rec := tracer(t)
	recorder, recorded := startRecorder(t)
	payloads := capture.New(capture.Options{})
	m := newMonitor()
	_, tun := startHTTPTunnel(t, m, up.URL+"/mcp", tunnel.HTTPOptions{Observers: tunnel.Observers{Telemetry: tel, Recorder: recorder, Payloads: payloads}})
	ctx := context.Background()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil).Connect(ctx, &mcp.StreamableClientTransport{Endpoint: tun.URL + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if err := cs.Ping(ctx, &mcp.PingParams{Meta: mcp.Meta{telemetry.MetaTraceparent: callerTP}}); err != nil {
		t.Fatal(err)
	}
	srv, client := serverAndClient(t, rec, "ping")
	if srv.Parent().SpanID().String() != callerSpan {
		t.Errorf("SERVER span's parent %v; want the client's", srv.Parent())
	}
	mu.Lock()
	got := seen["ping"]
	mu.Unlock()
	if got != traceparentOf(client) {
		t.Errorf("the upstream saw %q; want the CLIENT span's %s", got, traceparentOf(client))
	}
	lines := recorded()
	if sent := sentWith(lines, `"ping"`); !strings.Contains(sent, callerTP) {
		t.Errorf("recorded %s; want the client's traceparent %s", sent, callerTP)
	}
	if params := capturedParams(m, payloads, "ping"); !strings.Contains(params, callerTP) {
		t.Errorf("captured ping params %q; want the client's traceparent %s", params, callerTP)
	}
}
