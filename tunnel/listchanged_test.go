package tunnel_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
)

// TestListChangedPassesThrough: the server's list_changed notifications
// reach the client through the stdio tunnel, before the answer that
// follows them, as the server wrote them.
func TestListChangedPassesThrough(t *testing.T) {
	r := startStdio(t, tunnel.StdioOptions{})
	r.initialize()
	for _, method := range []string{"notifications/tools/list_changed", "notifications/prompts/list_changed", "notifications/resources/list_changed"} {
		r.send(`{"jsonrpc":"2.0","id":"n","method":"tools/call","params":{"name":"notify","arguments":{"text":"` + method + `"}}}`)
		got := r.await(method, func(line []byte) bool { return strings.Contains(string(line), `"method":"`+method+`"`) })
		if want := `{"jsonrpc":"2.0","method":"` + method + `"}` + "\n"; string(got) != want {
			t.Errorf("the client got %q, want %q", got, want)
		}
		r.response(`"n"`)
	}
}

// TestHTTPListChangedPassesThrough: a go-sdk server that adds a tool
// tells its clients on their stream; through the HTTP tunnel, a go-sdk
// client hears it.
func TestHTTPListChangedPassesThrough(t *testing.T) {
	server := mcp.NewServer(&mcp.Implementation{Name: "growing", Version: "1"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "grow"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		mcp.AddTool(server, &mcp.Tool{Name: "grown"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{}, nil, nil
		})
		return &mcp.CallToolResult{}, nil, nil
	})
	up := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil))
	defer up.Close()
	_, tun := startHTTPTunnel(t, newMonitor(), up.URL+"/mcp", tunnel.HTTPOptions{})
	changed := make(chan struct{}, 1)
	client := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
			select {
			case changed <- struct{}{}:
			default:
			}
		},
	})
	ctx := context.Background()
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: tun.URL + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "grow", Arguments: map[string]any{}}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	case <-time.After(waitLimit):
		t.Fatal("the client never heard that the tool list changed")
	}
}
