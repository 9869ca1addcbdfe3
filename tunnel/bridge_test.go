package tunnel_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel/tunneltest"
)

// startBridge serves the fake stdio server over Streamable HTTP, a child
// per session; it returns the endpoint's URL.
func startBridge(t *testing.T, m *monitor.Monitor, opts tunnel.BridgeOptions) (*tunnel.Bridge, string) {
	t.Helper()
	var c tunnel.Command
	c.Path, c.Env = tunneltest.Command()
	return startBridgeOf(t, m, c, opts)
}

func startBridgeOf(t *testing.T, m *monitor.Monitor, c tunnel.Command, opts tunnel.BridgeOptions) (*tunnel.Bridge, string) {
	t.Helper()
	var logs testenv.Buffer
	opts.Stdio.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.Stdio.Stderr = io.Discard
	b, err := tunnel.NewBridge(m, c, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.Start(ctx)
	srv := httptest.NewServer(b)
	t.Cleanup(func() {
		srv.Close()
		b.Close()
		cancel()
		http.DefaultClient.CloseIdleConnections()
		if t.Failed() {
			t.Logf("bridge log:\n%s", logs.String())
		}
	})
	return b, srv.URL + "/mcp"
}

func textOf(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	if len(res.Content) == 0 {
		t.Fatalf("no content in %+v", res)
	}
	tc, ok := res.Content[0].(*mcp.TextContent)
	if !ok {
		t.Fatalf("content %T", res.Content[0])
	}
	return tc.Text
}

// TestBridgeGoClient: the Go SDK's client uses a stdio server through the
// bridge as it would use an HTTP server: tools, the server's requests to
// the client (roots/list) and its notifications (list_changed) reach it;
// each session has a process of its own, and ends it when it ends.
func TestBridgeGoClient(t *testing.T) {
	m := newMonitor()
	b, url := startBridge(t, m, tunnel.BridgeOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	changed := make(chan struct{}, 1)
	connect := func(name string) *mcp.ClientSession {
		c := mcp.NewClient(&mcp.Implementation{Name: name, Version: "1"}, &mcp.ClientOptions{
			ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
				select {
				case changed <- struct{}{}:
				default:
				}
			},
		})
		c.AddRoots(&mcp.Root{URI: "file:///srv", Name: "srv"})
		cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}
	if i := b.Info(); i.Up || i.Ready() != nil {
		t.Errorf("before any session: up %v, ready %v; want not up (unknown), and ready", i.Up, i.Ready())
	}
	a, other := connect("bridge-a"), connect("bridge-b")
	if a.ID() == "" || a.ID() == other.ID() {
		t.Fatalf("session ids %q and %q", a.ID(), other.ID())
	}
	if got := a.InitializeResult().ServerInfo.Name; got != "fake-mcp" {
		t.Errorf("server %q", got)
	}
	tools, err := a.ListTools(ctx, nil)
	if err != nil || len(tools.Tools) == 0 {
		t.Fatalf("tools/list: %v %v", tools, err)
	}
	res, err := a.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "through the bridge"}})
	if err != nil || textOf(t, res) != "through the bridge" {
		t.Fatalf("echo: %v %v", res, err)
	}
	// The server asks the client its roots while answering.
	res, err = a.CallTool(ctx, &mcp.CallToolParams{Name: "roots", Arguments: map[string]any{}})
	if err != nil || !strings.Contains(textOf(t, res), "file:///srv") {
		t.Fatalf("roots: %v %v", res, err)
	}
	if _, err := a.CallTool(ctx, &mcp.CallToolParams{Name: "notify", Arguments: map[string]any{"text": "notifications/tools/list_changed"}}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	case <-ctx.Done():
		t.Fatal("the server's list_changed never reached the client")
	}
	pid := func(cs *mcp.ClientSession) string {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "pid", Arguments: map[string]any{}})
		if err != nil {
			t.Fatal(err)
		}
		return textOf(t, res)
	}
	if pa, pb := pid(a), pid(other); pa == pb {
		t.Errorf("both sessions reached process %s; want one each", pa)
	}
	if i := b.Info(); i.Sessions != 2 || !i.Bridge || !i.Up || i.PID == 0 {
		t.Errorf("info %+v", i)
	}
	// Calls are recorded under their session, as HTTP calls.
	var seen int
	for _, c := range m.RecentCalls(0, 100) {
		if c.Method == "tools/call" && c.Session == a.ID() {
			seen++
			if c.Transport != monitor.TransportHTTP || c.Client.Name != "bridge-a" {
				t.Errorf("call %+v", c)
			}
		}
	}
	if seen != 4 {
		t.Errorf("%d tools/calls recorded for session a, want 4", seen)
	}
	// Ending a session ends its process; the other goes on.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the closed session's process to end", func() bool { return b.Info().Sessions == 1 })
	if _, err := other.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "still here"}}); err != nil {
		t.Fatal(err)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every process to end", func() bool { return b.Info().Sessions == 0 })
	if i := b.Info(); !i.Up {
		t.Errorf("sessions that ended put the server down: %+v", i)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// rawPost posts body to url as a client of the transport would.
func rawPost(t *testing.T, url, session, accept, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

const bothAccepts = "application/json, text/event-stream"

// initSession opens a session by hand and returns its id.
func initSession(t *testing.T, url, accept string) string {
	t.Helper()
	res, body := rawPost(t, url, "", accept, initLine)
	id := res.Header.Get("Mcp-Session-Id")
	if res.StatusCode != http.StatusOK || id == "" || !strings.Contains(body, `"serverInfo"`) {
		t.Fatalf("initialize: %d %q %s", res.StatusCode, id, body)
	}
	if res, _ := rawPost(t, url, id, accept, initializedLine); res.StatusCode != http.StatusAccepted {
		t.Fatalf("notifications/initialized: %d", res.StatusCode)
	}
	return id
}

// TestBridgeHTTPRules: what a client gets wrong gets a clear answer, a
// JSON-RPC error with the right status; JSON-only clients and batches
// get JSON; an id already waiting is refused, not sent twice.
func TestBridgeHTTPRules(t *testing.T) {
	_, url := startBridge(t, newMonitor(), tunnel.BridgeOptions{MaxSessions: 1})
	for _, c := range []struct {
		name, method, session, accept, body string
		status                              int
		want                                string
	}{
		{"no session, not initialize", http.MethodPost, "", bothAccepts, `{"jsonrpc":"2.0","id":1,"method":"ping"}`, 400, "initialize"},
		{"unknown session", http.MethodPost, "nope", bothAccepts, `{"jsonrpc":"2.0","id":1,"method":"ping"}`, 404, "session not found"},
		{"not JSON", http.MethodPost, "", bothAccepts, `hello`, 400, "-32700"},
		{"GET without event stream", http.MethodGet, "nope", "application/json", "", 406, "text/event-stream"},
		{"PUT", http.MethodPut, "", bothAccepts, "", 405, "not allowed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, url, strings.NewReader(c.body))
			req.Header.Set("Accept", c.accept)
			req.Header.Set("Content-Type", "application/json")
			if c.session != "" {
				req.Header.Set("Mcp-Session-Id", c.session)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			var e struct {
				Error struct{ Message string } `json:"error"`
			}
			if res.StatusCode != c.status || json.Unmarshal(b, &e) != nil || !strings.Contains(string(b), c.want) {
				t.Errorf("%d %s, want %d with %q", res.StatusCode, b, c.status, c.want)
			}
		})
	}

	// A client that takes JSON only: the answer is a JSON body, a batch's
	// an array.
	id := initSession(t, url, "application/json")
	res, body := rawPost(t, url, id, "application/json", `{"jsonrpc":"2.0","id":2,"method":"ping"}`)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" || !strings.HasPrefix(body, `{"jsonrpc":"2.0","id":2,`) {
		t.Errorf("ping as JSON: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	_, body = rawPost(t, url, id, "application/json", `[{"jsonrpc":"2.0","id":3,"method":"ping"},{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","arguments":{"text":"b"}}}]`)
	var batch []struct {
		ID json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal([]byte(body), &batch); err != nil || len(batch) != 2 {
		t.Errorf("batch answer %s", body)
	}

	// One session is the most: a second initialize is refused.
	if res, body := rawPost(t, url, "", bothAccepts, initLine); res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "too many sessions") {
		t.Errorf("second session: %d %s", res.StatusCode, body)
	}

	// Two requests with one id at once: the second is refused, the first
	// answered once.
	var wg sync.WaitGroup
	wg.Go(func() {
		_, body := rawPost(t, url, id, bothAccepts, `{"jsonrpc":"2.0","id":"s","method":"tools/call","params":{"name":"slow","arguments":{"ms":300}}}`)
		if strings.Count(body, `"id":"s"`) != 1 || !strings.Contains(body, "slept") {
			t.Errorf("the slow call's stream: %s", body)
		}
	})
	time.Sleep(100 * time.Millisecond)
	_, body = rawPost(t, url, id, bothAccepts, `{"jsonrpc":"2.0","id":"s","method":"ping"}`)
	if !strings.Contains(body, "already in progress") {
		t.Errorf("duplicate id: %s", body)
	}
	wg.Wait()

	// DELETE ends the session; it is gone after.
	req, _ := http.NewRequest(http.MethodDelete, url, nil)
	req.Header.Set("Mcp-Session-Id", id)
	if res, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else if res.Body.Close(); res.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %d", res.StatusCode)
	}
	if res, _ := rawPost(t, url, id, bothAccepts, `{"jsonrpc":"2.0","id":9,"method":"ping"}`); res.StatusCode != http.StatusNotFound {
		t.Errorf("after DELETE: %d", res.StatusCode)
	}
}

// TestBridgeServerMessagesWait: what the server sends while the client has
// no stream open waits for its GET stream, in order.
func TestBridgeServerMessagesWait(t *testing.T) {
	_, url := startBridge(t, newMonitor(), tunnel.BridgeOptions{})
	id := initSession(t, url, "application/json")
	// Answered as JSON: the notification before the answer has no stream.
	if _, body := rawPost(t, url, id, "application/json", `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"notify","arguments":{"text":"notifications/resources/list_changed"}}}`); !strings.Contains(body, "notified") {
		t.Fatalf("notify: %s", body)
	}
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Mcp-Session-Id", id)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	buf := make([]byte, 4096)
	var got bytes.Buffer
	for !strings.Contains(got.String(), "\n\n") {
		n, err := res.Body.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			t.Fatalf("reading the GET stream: %v (%q)", err, got.String())
		}
	}
	if want := "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/resources/list_changed\"}\n\n"; got.String() != want {
		t.Errorf("GET stream %q, want %q", got.String(), want)
	}
}

// TestBridgeIdleAndFailedStart: an idle session is closed, its process
// ended; a server that cannot start answers initialize with an error.
func TestBridgeIdleAndFailedStart(t *testing.T) {
	b, url := startBridge(t, newMonitor(), tunnel.BridgeOptions{IdleTimeout: 200 * time.Millisecond})
	id := initSession(t, url, bothAccepts)
	waitFor(t, "the idle session to close", func() bool { return b.Info().Sessions == 0 })
	if res, _ := rawPost(t, url, id, bothAccepts, `{"jsonrpc":"2.0","id":2,"method":"ping"}`); res.StatusCode != http.StatusNotFound {
		t.Errorf("idle session answered %d", res.StatusCode)
	}

	_, bad := startBridgeOf(t, newMonitor(), tunnel.Command{Path: "/nonexistent/mcp-server"}, tunnel.BridgeOptions{})
	res, body := rawPost(t, bad, "", bothAccepts, initLine)
	if res.StatusCode != http.StatusBadGateway || !strings.Contains(body, `"id":1`) || !strings.Contains(body, "starting the MCP server failed") {
		t.Errorf("a server that cannot start: %d %s", res.StatusCode, body)
	}
}

// stuckServer is a stdio server that answers initialize and then neither
// reads its input nor exits; ignoring SIGTERM too when stubborn.
func stuckServer(t *testing.T, stubborn bool) tunnel.Command {
	t.Helper()
	trap := ""
	if stubborn {
		trap = "trap '' TERM\n"
	}
	script := filepath.Join(t.TempDir(), "stuck.sh")
	body := "#!/bin/sh\n" + trap + `read line
echo '{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"stuck","version":"1"}}}'
exec sleep 60
`
	if stubborn {
		// sleep would take the default SIGTERM: the shell waits instead.
		body = "#!/bin/sh\n" + trap + `read line
echo '{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"stuck","version":"1"}}}'
while :; do sleep 1; done
`
	}
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return tunnel.Command{Path: script}
}

// TestBridgeStuckServer: a server that stops reading its input, or ignores
// SIGTERM, is ended all the same: the client's request gives up, DELETE
// and idle expiry return at once, and the process is killed; it counts
// against the sessions until it is gone.
func TestBridgeStuckServer(t *testing.T) {
	for _, stubborn := range []bool{false, true} {
		t.Run(fmt.Sprintf("stubborn=%v", stubborn), func(t *testing.T) {
			b, url := startBridgeOf(t, newMonitor(), stuckServer(t, stubborn), tunnel.BridgeOptions{MaxSessions: 1,
				Stdio: tunnel.StdioOptions{StopTimeout: 200 * time.Millisecond}})
			id := initSession(t, url, bothAccepts)
			// Enough to fill the pipe to a child that does not read.
			big := `{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"` + strings.Repeat("x", 1<<20) + `"}}`
			for range 3 {
				ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(big))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Mcp-Session-Id", id)
				if res, err := http.DefaultClient.Do(req); err == nil {
					res.Body.Close()
				}
				cancel()
			}
			start := time.Now()
			req, _ := http.NewRequest(http.MethodDelete, url, nil)
			req.Header.Set("Mcp-Session-Id", id)
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close() // 204, or 404 if the stuck write closed it already
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("DELETE took %v", d)
			}
			if n := b.Info().Sessions; n != 0 {
				t.Errorf("%d sessions open after DELETE", n)
			}
			waitFor(t, "the process to be ended and a new session allowed", func() bool {
				res, _ := rawPost(t, url, "", bothAccepts, initLine)
				return res.StatusCode == http.StatusOK
			})
		})
	}
}

// TestBridgeCancelledRequest: a request the client cancels ends its POST
// (the server sends no answer to it), and its id is free again.
func TestBridgeCancelledRequest(t *testing.T) {
	_, url := startBridge(t, newMonitor(), tunnel.BridgeOptions{})
	id := initSession(t, url, bothAccepts)
	done := make(chan string, 1)
	go func() {
		_, body := rawPost(t, url, id, bothAccepts, `{"jsonrpc":"2.0","id":"b","method":"tools/call","params":{"name":"block","arguments":{"late":true}}}`)
		done <- body
	}()
	time.Sleep(200 * time.Millisecond)
	if res, _ := rawPost(t, url, id, bothAccepts, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"b"}}`); res.StatusCode != http.StatusAccepted {
		t.Fatalf("cancellation: %d", res.StatusCode)
	}
	select {
	case body := <-done:
		if strings.Contains(body, `"id":"b"`) {
			t.Errorf("the cancelled request was answered: %s", body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the cancelled request's POST never ended")
	}
	if _, body := rawPost(t, url, id, bothAccepts, `{"jsonrpc":"2.0","id":"b","method":"ping"}`); strings.Contains(body, "in progress") {
		t.Errorf("the id is still taken: %s", body)
	}
}

// TestBridgeRefusals: what would not find its way back, or comes from a
// web page, is refused; an answer too large to hold is an error answer.
func TestBridgeRefusals(t *testing.T) {
	_, url := startBridge(t, newMonitor(), tunnel.BridgeOptions{MaxBodySize: 64 << 10})
	id := initSession(t, url, bothAccepts)
	if res, body := rawPost(t, url, id, bothAccepts, `{"jsonrpc":"2.0","id":2.0,"method":"ping"}`); res.StatusCode != 400 || !strings.Contains(body, "string or an integer") {
		t.Errorf("id 2.0: %d %s", res.StatusCode, body)
	}
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(initLine))
	req.Header.Set("Content-Type", "text/plain") // what a page may send without asking
	if res, err := http.DefaultClient.Do(req); err != nil {
		t.Error(err)
	} else if res.Body.Close(); res.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain: %d", res.StatusCode)
	}
	_, body := rawPost(t, url, id, bothAccepts, `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"big","arguments":{"size":100000}}}`)
	if !strings.Contains(body, `"id":3`) || !strings.Contains(body, "more than the proxy holds") {
		t.Errorf("an answer too large: %.300s", body)
	}
}
