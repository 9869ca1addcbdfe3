package mcpserver_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/sse"
	"github.com/mcp-pba-tunnel/pbatunnel/mcpserver"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// sizedServer is a server without stores and with two tools of its own:
// "chatty" tells the client of its progress before it answers, "bulky"
// answers with n bytes of text.
func sizedServer() (*mcp.Server, *monitor.Monitor) {
	m := monitor.New(monitor.Options{DisableSystem: true})
	srv := mcpserver.New(mcpserver.Options{Monitor: m})
	mcp.AddTool(srv, &mcp.Tool{Name: "chatty"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		for i := range 3 {
			_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: "p", Progress: float64(i), Message: strings.Repeat("progress ", 20)})
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "done"}}}, nil, nil
	})
	mcp.AddTool(srv, &mcp.Tool{Name: "bulky"}, func(_ context.Context, _ *mcp.CallToolRequest, in struct {
		N int `json:"n"`
	}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: strings.Repeat("b", in.N)}}}, nil, nil
	})
	return srv, m
}

// callsByMethod returns the calls m recorded, by method and tool.
func callsByMethod(m *monitor.Monitor) map[string]monitor.Call {
	out := map[string]monitor.Call{}
	for _, c := range m.RecentCalls(0, 100) {
		out[strings.TrimSuffix(c.Method+" "+c.Tool, " ")] = c
	}
	return out
}

// TestStdioSizesOnTheWire: each request's size is its line's, and its
// response's the line written for it, in a batch too; a line's white
// space is not the message's.
func TestStdioSizesOnTheWire(t *testing.T) {
	srv, m := sizedServer()
	requests := map[string]string{
		"tools/list":       `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
		"tools/call bulky": `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"bulky","arguments":{"n":100000}}}`,
		"ping":             `{"jsonrpc":"2.0","id":"four","method":"ping"}`,
		"tools/call nope":  `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"nope","arguments":{}}}`,
	}
	batch := map[string]string{
		"tools/call chatty": `{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"chatty","arguments":{}}}`,
		"resources/list":    `{"jsonrpc":"2.0","id":7,"method":"resources/list"}`,
	}
	input := initOld + "\n" + initialized + "\n" +
		"  " + requests["tools/list"] + " \t\n" + requests["tools/call bulky"] + "\n" + requests["ping"] + "\n" + requests["tools/call nope"] + "\n" +
		"[" + batch["tools/call chatty"] + ", " + batch["resources/list"] + "]\n"
	got, _ := serveLines(t, srv, nil, input)
	answers := byID(t, got)
	wantAnswer := map[string]string{"initialize": "1", "tools/list": "2", "tools/call bulky": "3", "ping": `"four"`, "tools/call nope": "5", "tools/call chatty": "6", "resources/list": "7"}
	requests["initialize"] = initOld
	for k, v := range batch {
		requests[k] = v
	}
	calls := callsByMethod(m)
	for key, id := range wantAnswer {
		c, ok := calls[key]
		if !ok {
			t.Errorf("%s: no call recorded", key)
			continue
		}
		if c.RequestBytes != int64(len(requests[key])) {
			t.Errorf("%s: request_bytes %d, want %d", key, c.RequestBytes, len(requests[key]))
		}
		if a := answers[id]; c.ResponseBytes != int64(len(a.line)) || a.line == "" {
			t.Errorf("%s: response_bytes %d, want %d (%.80s)", key, c.ResponseBytes, len(a.line), a.line)
		}
	}
	// The size of a tool's answers shows in its figures.
	if got := calls["tools/call bulky"].ResponseBytes; got < 100000 {
		t.Errorf("bulky's answer measured %d bytes, want more than 100000", got)
	}
}

// TestHTTPSizesOnTheWire: a POST's body is its request's size, the
// response event (not the progress events before it) its answer's, at
// any size; a batch's body is not one request's and is not measured.
func TestHTTPSizesOnTheWire(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		want       string // the call's method and tool
		batch      bool
	}{
		{name: "progress first", body: `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"chatty","arguments":{},"_meta":{"progressToken":"p"}}}`, want: "tools/call chatty"},
		{name: "large answer", body: ` {"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"bulky","arguments":{"n":200000}}}` + "\n", want: "tools/call bulky"},
		{name: "small answer", body: `{"jsonrpc":"2.0","id":4,"method":"ping"}`, want: "ping"},
		{name: "protocol error", body: `{"jsonrpc":"2.0","id":5,"method":"prompts/get","params":{"name":"none"}}`, want: "prompts/get"},
		{name: "batch", body: `[{"jsonrpc":"2.0","id":6,"method":"tools/list"}]`, want: "tools/list", batch: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, m := sizedServer()
			h, err := mcpserver.HTTPHandler(srv, nil)
			if err != nil {
				t.Fatal(err)
			}
			hs := httptest.NewServer(h)
			defer hs.Close()
			url := hs.URL
			init := strings.Replace(initialize(1), "2025-06-18", "2025-03-26", 1) // batches allowed
			status, session, _ := post(t, url, "", init)
			if status != 200 || session == "" {
				t.Fatalf("initialize: %d, session %q", status, session)
			}
			post(t, url, session, initialized)
			status, _, body := post(t, url, session, tt.body)
			if status != 200 {
				t.Fatalf("status %d: %s", status, body)
			}
			var events []string
			sc := &sse.Scanner{Max: 1 << 30, OnEvent: func(d []byte) { events = append(events, string(d)) }}
			sc.Scan([]byte(body))
			if len(events) == 0 {
				t.Fatalf("no events in %.200s", body)
			}
			c, ok := callsByMethod(m)[tt.want]
			if !ok {
				t.Fatalf("no %s call recorded", tt.want)
			}
			if tt.batch {
				if c.RequestBytes != 0 || c.ResponseBytes != 0 {
					t.Errorf("a batch's call measured %d and %d bytes, want neither", c.RequestBytes, c.ResponseBytes)
				}
				return
			}
			if tt.want == "tools/call chatty" && len(events) != 4 {
				t.Errorf("%d events, want 3 progress notifications and the answer", len(events))
			}
			answer := events[len(events)-1]
			if c.RequestBytes != int64(len(strings.TrimSpace(tt.body))) || c.ResponseBytes != int64(len(answer)) {
				t.Errorf("request_bytes %d, response_bytes %d; want %d and %d (%d events)",
					c.RequestBytes, c.ResponseBytes, len(strings.TrimSpace(tt.body)), len(answer), len(events))
			}
		})
	}
}
