package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/mcp-pba-tunnel/pbatunnel/capture"
	"github.com/mcp-pba-tunnel/pbatunnel/dashboard"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
)

// fakeUpstream is an MCP server over Streamable HTTP, written by hand: it
// answers initialize, accepts notifications, and fails every tools/call
// with a result whose isError is set and whose text is hostileError.
func fakeUpstream(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if len(req.ID) == 0 { // a notification
			w.WriteHeader(http.StatusAccepted)
			return
		}
		var result any
		switch req.Method {
		case "initialize":
			w.Header().Set("Mcp-Session-Id", sessAlpha)
			result = map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{"tools": map[string]any{}},
				"serverInfo": map[string]any{"name": "fake-upstream", "version": "0.1.0"}}
		case "tools/call":
			result = map[string]any{"isError": true, "content": []any{map[string]any{"type": "text", "text": hostileError}}}
		default:
			result = map[string]any{}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": result})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// postMCP sends one JSON-RPC message to the tunnel at url, in session
// (if any), and returns the session the answer names.
func postMCP(t *testing.T, url, session, msg string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %s", msg, res.Status)
	}
	return res.Header.Get("Mcp-Session-Id")
}

// testTunnelHostile has the real HTTP tunnel record the calls: a client
// calls a tool with a hostile name through it, and the upstream answers
// with a tool error whose text is hostile. The Calls tab shows both as
// text: the name in the log, the error in the call's captured result.
func testTunnelHostile(t *testing.T, b *browser) {
	ctx, cancel := context.WithCancel(context.Background())
	m := monitor.New(monitor.Options{DisableSystem: true})
	store := capture.New(capture.Options{})
	up := fakeUpstream(t)
	h, err := tunnel.NewHTTP(m, up.URL+"/mcp", tunnel.HTTPOptions{Observers: tunnel.Observers{Payloads: store}})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(h)
	t.Cleanup(front.Close)
	m.Sample(ctx)
	base := serveDashboard(t, ctx, cancel, m, dashboard.Options{Payloads: store})

	session := postMCP(t, front.URL+"/mcp", "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",
		"capabilities":{},"clientInfo":{"name":"hostile-client","version":"1"}}}`)
	if session != sessAlpha {
		t.Fatalf("the tunnel passed session %q, want %q", session, sessAlpha)
	}
	postMCP(t, front.URL+"/mcp", session, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	postMCP(t, front.URL+"/mcp", session, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":`+
		jsString(hostile)+`,"arguments":{"q":`+jsString(hostileError)+`}}}`)

	// The tunnel recorded the call: the hostile name, a tool error.
	var call apiCall
	for _, c := range apiCalls(t, base, nil) {
		if c.Method == monitor.MethodToolsCall {
			call = c
		}
	}
	if call.Tool != hostile || call.Outcome != monitor.ErrorTypeTool {
		t.Fatalf("the tunnel recorded the tools/call as tool %q, outcome %q; want %q, %q", call.Tool, call.Outcome, hostile, monitor.ErrorTypeTool)
	}

	tb := b.newTab(t, desktop)
	tb.watchMarkup()
	tb.navigate(base + "/#calls")
	tb.wait("the live stream", jsLive)
	tb.wait("the hostile tool as text", jsCallRow(call.ID)+`.children[4].textContent === `+jsString(hostile))
	if got := eval[string](tb, jsCallRow(call.ID)+`.querySelector('.outcome').textContent`); got != monitor.ErrorTypeTool {
		t.Errorf("the call's outcome shows %q, want %s", got, monitor.ErrorTypeTool)
	}
	// The row's error cell shows what the tunnel recorded, as text.
	if got := eval[string](tb, jsCallRow(call.ID)+`.children[10].textContent`); got != call.Error {
		t.Errorf("the call's error shows %q, the API has %q", got, call.Error)
	}

	// The call's detail: the hostile name, the arguments and the upstream's
	// error text, all as text.
	tb.click(jsCallRowSel(call.ID) + ` td.time`)
	const jsParts = `[...document.querySelectorAll('#call-detail-payload .part')].map(p => p.textContent)`
	tb.wait("the payload", jsParts+`.length === 2`)
	parts := eval[[]string](tb, jsParts)
	if want := `"q": ` + strconv.Quote(hostileError); !strings.Contains(parts[0], want) {
		t.Errorf("the arguments show as %q, want them to have %s", parts[0], want)
	}
	if want := `"text": ` + strconv.Quote(hostileError); !strings.HasPrefix(parts[1], "Result") || !strings.Contains(parts[1], want) ||
		!strings.Contains(parts[1], `"isError": true`) {
		t.Errorf("the result shows as %q, want the tool error with %s", parts[1], want)
	}
	if !eval[bool](tb, `document.querySelector('#call-detail').textContent.includes(`+jsString(hostile)+`)`) {
		t.Error("the call's detail does not show the hostile tool name as text")
	}
	noMarkup(t, tb)
}

// jsCallRowSel is the CSS selector of call id's row.
func jsCallRowSel(id uint64) string {
	return fmt.Sprintf(`#calls-table tbody tr[data-id="%d"]`, id)
}
