package tunnel_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
)

// TestStdioColdStart: the time from the server's start to its answer to
// initialize, and to its first tools/list, later or equal; none before.
func TestStdioColdStart(t *testing.T) {
	r := startStdio(t, tunnel.StdioOptions{})
	r.initialize()
	cs := r.p.Info().ColdStart
	if cs == nil || cs.InitializeMs <= 0 || cs.ToolsListMs != 0 {
		t.Fatalf("after initialize: %+v", cs)
	}
	r.call("2", `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	r.call("3", `{"jsonrpc":"2.0","id":3,"method":"tools/list"}`)
	got := r.p.Info().ColdStart
	if got.ToolsListMs < got.InitializeMs || got.InitializeMs != cs.InitializeMs {
		t.Errorf("after tools/list: %+v (initialize was %+v)", got, cs)
	}
	if again := r.p.Info().ColdStart; again.ToolsListMs != got.ToolsListMs {
		t.Errorf("the second tools/list moved the first: %+v, then %+v", got, again)
	}
}

// TestHTTPColdStart: over HTTP, from the first initialize sent.
func TestHTTPColdStart(t *testing.T) {
	up := httptest.NewServer(mcpHandler(false))
	defer up.Close()
	tun, srv := startHTTPTunnel(t, newMonitor(), up.URL+"/mcp", tunnel.HTTPOptions{})
	if tun.Info().ColdStart != nil {
		t.Fatal("a cold start before any initialize")
	}
	ctx := context.Background()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil).Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.URL + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if _, err := cs.ListTools(ctx, nil); err != nil {
		t.Fatal(err)
	}
	got := tun.Info().ColdStart
	if got == nil || got.InitializeMs <= 0 || got.ToolsListMs < got.InitializeMs {
		t.Errorf("cold start %+v", got)
	}
}
