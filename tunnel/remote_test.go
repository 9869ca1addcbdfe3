package tunnel_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
)

// TestRemoteGoClient: a client on stdio uses a Streamable HTTP server
// through a Remote as it would over HTTP: tools, the server's requests to
// the client on the call's stream, its notifications outside any request
// on the GET stream, the session ended when the client leaves; calls
// measured by the tunnel.
func TestRemoteGoClient(t *testing.T) {
	server := mcp.NewServer(&mcp.Implementation{Name: "remote-upstream", Version: "1.0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "echo"}, func(_ context.Context, _ *mcp.CallToolRequest, in struct {
		Text string `json:"text"`
	}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Text}}}, nil, nil
	})
	mcp.AddTool(server, &mcp.Tool{Name: "roots"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		res, err := req.Session.ListRoots(ctx, nil)
		if err != nil {
			return nil, nil, err
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: res.Roots[0].URI}}}, nil, nil
	})
	var (
		mu            sync.Mutex
		deletes, gets int
	)
	handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		switch r.Method {
		case http.MethodDelete:
			deletes++
		case http.MethodGet:
			gets++
		}
		mu.Unlock()
		handler.ServeHTTP(w, r)
	}))
	defer up.Close()

	m := newMonitor()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	var logs testenv.Buffer
	rem, err := tunnel.NewRemote(m, up.URL+"/mcp", tunnel.RemoteOptions{Stdin: inR, Stdout: outW,
		HTTP: tunnel.HTTPOptions{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- rem.Run(context.Background())
		outW.Close()
	}()
	defer func() {
		if t.Failed() {
			t.Logf("remote log:\n%s", logs.String())
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	changed := make(chan struct{}, 1)
	c := mcp.NewClient(&mcp.Implementation{Name: "stdio-client", Version: "1"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
			select {
			case changed <- struct{}{}:
			default:
			}
		},
	})
	c.AddRoots(&mcp.Root{URI: "file:///work"})
	cs, err := c.Connect(ctx, &mcp.IOTransport{Reader: outR, Writer: inW}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := cs.InitializeResult().ServerInfo.Name; got != "remote-upstream" {
		t.Errorf("server %q", got)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "over stdio"}})
	if err != nil || textOf(t, res) != "over stdio" {
		t.Fatalf("echo: %v %v", res, err)
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "roots", Arguments: map[string]any{}})
	if err != nil || textOf(t, res) != "file:///work" {
		t.Fatalf("roots: %v %v", res, err)
	}
	// A tool added later: the server says so on the session's GET stream.
	waitFor(t, "the GET stream", func() bool { mu.Lock(); defer mu.Unlock(); return gets > 0 })
	// The GET has arrived; the server takes it as the session's stream a
	// moment later, and drops what it sends before: a tool is added
	// until one change is seen.
	for i := 0; ; i++ {
		mcp.AddTool(server, &mcp.Tool{Name: "late" + strconv.Itoa(i)}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{}, nil, nil
		})
		select {
		case <-changed:
		case <-time.After(500 * time.Millisecond):
			if i < 20 {
				continue
			}
			t.Fatal("the server's list_changed never reached the stdio client")
		}
		break
	}
	var calls int
	for _, call := range m.RecentCalls(0, 100) {
		if call.Method == "tools/call" {
			calls++
			if call.Transport != monitor.TransportHTTP || call.Session == "" || call.Client.Name != "stdio-client" {
				t.Errorf("call %+v", call)
			}
		}
	}
	if calls != 2 {
		t.Errorf("%d tools/calls recorded, want 2", calls)
	}
	if err := cs.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("Run did not end with the client's input")
	}
	mu.Lock()
	defer mu.Unlock()
	if deletes != 1 {
		t.Errorf("%d DELETEs, want the session ended once", deletes)
	}
}

// TestRemoteUnreachable: requests to a server that is down are answered
// with errors, each once, and the relay goes on.
func TestRemoteUnreachable(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	rem, err := tunnel.NewRemote(newMonitor(), "http://"+testenv.Addr(testenv.FreePort(t))+"/mcp",
		tunnel.RemoteOptions{Stdin: inR, Stdout: outW, HTTP: tunnel.HTTPOptions{Logger: slog.New(slog.DiscardHandler)}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- rem.Run(context.Background()); outW.Close() }()
	go func() {
		_, _ = io.WriteString(inW, initLine+"\n"+`{"jsonrpc":"2.0","id":2,"method":"ping"}`+"\n")
		inW.Close()
	}()
	out, err := io.ReadAll(outR)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 || !strings.Contains(string(out), `"id":1,"error"`) || !strings.Contains(string(out), `"id":2,"error"`) {
		t.Errorf("answers %q, want an error for each request", out)
	}
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}
