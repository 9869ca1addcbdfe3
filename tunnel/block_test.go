package tunnel_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/catalog"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel/tunneltest"
)

// blockEcho blocks the tool echo.
func blockEcho(tool string) string {
	if tool == "echo" {
		return "echo is blocked"
	}
	return ""
}

// TestBlockStdio: a call Observers.Block refuses is answered by the
// tunnel, never reaches the server, and is recorded as blocked; the
// others go through.
func TestBlockStdio(t *testing.T) {
	r := startStdio(t, tunnel.StdioOptions{Observers: tunnel.Observers{Block: blockEcho}})
	r.initialize()
	w := r.call("2", `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"}}}`)
	if w.Error == nil || w.Error.Message != "echo is blocked" {
		t.Errorf("echo answered %+v", w)
	}
	if got := r.toolText("3", "pid", `{}`); got == "" {
		t.Error("an allowed call got no answer")
	}
	if strings.Contains(string(r.recorded(tunneltest.Received)), `"echo"`) {
		t.Error("the blocked call reached the server")
	}
	var blocked int
	for _, c := range r.m.RecentCalls(0, 10) {
		if c.ErrorType == tunnel.ErrorTypeBlocked && c.Tool == "echo" {
			blocked++
		}
	}
	if blocked != 1 {
		t.Errorf("%d calls recorded as blocked, want 1", blocked)
	}
}

// TestBlockHTTP: the same over HTTP: the POST is answered by the tunnel.
func TestBlockHTTP(t *testing.T) {
	up := httptest.NewServer(mcpHandler(false))
	defer up.Close()
	m := newMonitor()
	_, tun := startHTTPTunnel(t, m, up.URL+"/mcp", tunnel.HTTPOptions{Observers: tunnel.Observers{Block: blockEcho}})
	ctx := context.Background()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil).Connect(ctx, &mcp.StreamableClientTransport{Endpoint: tun.URL + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "x"}}); err == nil || !strings.Contains(err.Error(), "echo is blocked") {
		t.Errorf("echo: %v", err)
	}
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "fail", Arguments: map[string]any{}}); err != nil {
		t.Errorf("an allowed call: %v", err)
	}
	var blocked int
	for _, c := range m.RecentCalls(0, 10) {
		if c.ErrorType == tunnel.ErrorTypeBlocked {
			blocked++
		}
	}
	if blocked != 1 {
		t.Errorf("%d calls recorded as blocked, want 1", blocked)
	}
}

// TestBlockDriftFromTheListTheClientSaw: with the catalogue deciding
// (proxy --on-drift block), a tools/list answer is in the catalogue
// before the client has it: a call the client makes at once, to a tool
// the list shows changed from its pin, is refused, never relayed.
func TestBlockDriftFromTheListTheClientSaw(t *testing.T) {
	cat := &catalog.Catalog{}
	// Pinned: pid alone; echo, in the server's list, is added since.
	if err := cat.LoadPin(catalog.PinFile{Tools: []json.RawMessage{json.RawMessage(`{"name":"pid","inputSchema":{"type":"object"}}`)}}); err != nil {
		t.Fatal(err)
	}
	block := func(tool string) string {
		if cat.Differs(tool) {
			return tool + " drifted"
		}
		return ""
	}
	r := startStdio(t, tunnel.StdioOptions{Observers: tunnel.Observers{Catalog: cat, Block: block}})
	r.initialize()
	r.send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	r.response("2")
	// At once, as a client that calls what it was just shown.
	w := r.call("3", `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"}}}`)
	if w.Error == nil || w.Error.Message != "echo drifted" {
		t.Errorf("a call to the drifted echo, made as its list arrived, was answered %s %+v", w.Result, w.Error)
	}
	if strings.Contains(string(r.recorded(tunneltest.Received)), `"echo"`) {
		t.Error("the call to the drifted tool reached the server")
	}
}
