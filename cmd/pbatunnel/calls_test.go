package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// TestServeCallsAndSessions connects two real MCP clients with distinct
// names to serve over Streamable HTTP: /api/calls shows each request with
// its client and session as it happens, /api/sessions shows both
// sessions with their protocol version, and a client that closes its
// session shows as ended.
func TestServeCallsAndSessions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mcpURL := startServe(t)
	base := strings.TrimSuffix(mcpURL, "/mcp")
	connect := func(name string) *mcp.ClientSession {
		c := mcp.NewClient(&mcp.Implementation{Name: name, Version: "9.1"}, nil)
		cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: mcpURL}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}
	alpha, beta := connect("alpha-agent"), connect("beta-agent")
	defer beta.Close()
	call := func(cs *mcp.ClientSession, args map[string]any) {
		if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "enhanced_memory", Arguments: args}); err != nil {
			t.Fatal(err)
		}
	}
	call(alpha, map[string]any{"operation": "store", "content": "first note"})
	call(alpha, map[string]any{"operation": "nope"}) // a tool error
	call(beta, map[string]any{"operation": "store", "content": "second note"})

	// No sample needed: the log is as of the request.
	var calls struct {
		Calls []struct {
			SessionID string `json:"session_id"`
			Client    struct {
				Name, Version string
			} `json:"client"`
			Transport, Method, Tool, Outcome, Error string
		} `json:"calls"`
	}
	getJSON(t, base+"/api/calls?method=tools/call", &calls)
	if len(calls.Calls) != 3 {
		t.Fatalf("tools/call rows %+v, want 3", calls.Calls)
	}
	last, mid := calls.Calls[0], calls.Calls[1]
	if last.Client.Name != "beta-agent" || last.Client.Version != "9.1" || last.Transport != "http" || last.Tool != "enhanced_memory" || last.Outcome != "ok" || last.SessionID == "" {
		t.Errorf("newest call %+v", last)
	}
	if mid.Client.Name != "alpha-agent" || mid.Outcome != "tool_error" || mid.Error == "" || mid.SessionID == last.SessionID {
		t.Errorf("alpha's failed call %+v", mid)
	}
	getJSON(t, base+"/api/calls?client=alpha-agent&outcome=failed", &calls)
	if len(calls.Calls) != 1 {
		t.Errorf("alpha's failures: %+v", calls.Calls)
	}

	type session struct {
		ID              string                `json:"id"`
		Client          struct{ Name string } `json:"client"`
		ProtocolVersion string                `json:"protocol_version"`
		Ended           *string               `json:"ended"`
		Calls, Errors   int
		Tools           map[string]struct{ Calls, Errors int } `json:"tools"`
	}
	var ss struct {
		Sessions []session `json:"sessions"`
		Clients  []struct {
			Name     string `json:"name"`
			Sessions int    `json:"sessions"`
		} `json:"clients"`
	}
	getJSON(t, base+"/api/sessions", &ss)
	by := map[string]session{}
	for _, s := range ss.Sessions {
		by[s.Client.Name] = s
	}
	a := by["alpha-agent"]
	// initialize, notifications are not requests; tools/list is not asked:
	// initialize and two tools/call.
	if a.ID != mid.SessionID || a.ProtocolVersion == "" || a.Ended != nil || a.Calls != 3 || a.Errors != 1 ||
		a.Tools["enhanced_memory"].Calls != 2 || a.Tools["enhanced_memory"].Errors != 1 {
		t.Errorf("alpha's session %+v", a)
	}
	if len(ss.Clients) != 2 {
		t.Errorf("clients %+v, want alpha-agent and beta-agent", ss.Clients)
	}

	// The result's tokens and size join the call once counted, off the
	// call's path; /metrics has them by tool.
	var counted struct {
		Calls []struct {
			ResponseBytes  *int64 `json:"response_bytes"`
			ResponseTokens *int64 `json:"response_tokens"`
		} `json:"calls"`
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		getJSON(t, base+"/api/calls?client=beta-agent&method=tools/call", &counted)
		if c := counted.Calls[0]; c.ResponseTokens != nil {
			if *c.ResponseTokens <= 0 || c.ResponseBytes == nil || *c.ResponseBytes <= 0 {
				t.Errorf("counted call: tokens %v bytes %v", *c.ResponseTokens, c.ResponseBytes)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the tool result's tokens were never counted")
		}
	}
	// Every request of a session has both sizes, as measured on the wire;
	// a notification has none.
	var sized struct {
		Calls []struct {
			Method        string
			RequestBytes  *int64 `json:"request_bytes"`
			ResponseBytes *int64 `json:"response_bytes"`
		} `json:"calls"`
	}
	getJSON(t, base+"/api/calls?client=alpha-agent", &sized)
	for _, c := range sized.Calls {
		if strings.HasPrefix(c.Method, "notifications/") {
			continue // not a request: nothing answers it
		}
		if c.RequestBytes == nil || *c.RequestBytes <= 0 || c.ResponseBytes == nil || *c.ResponseBytes <= 0 {
			t.Errorf("alpha's %s: request_bytes %v, response_bytes %v; want both measured", c.Method, c.RequestBytes, c.ResponseBytes)
		}
	}
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `mcp_tool_response_tokens_count{gen_ai_tool_name="enhanced_memory"} 3`) {
		t.Errorf("/metrics has no token histogram of the 3 results:\n%s", grepLines(string(body), "mcp_tool_response_tokens"))
	}

	// Closing the client deletes its session: it shows as ended.
	if err := alpha.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		getJSON(t, base+"/api/sessions", &ss)
		ended := false
		for _, s := range ss.Sessions {
			ended = ended || s.Client.Name == "alpha-agent" && s.Ended != nil
		}
		if ended {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alpha's session never ended: %+v", ss.Sessions)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestServeCapturePayloads calls a tool with a secret in its arguments
// through serve --capture-payloads: the call's detail has its arguments
// and result, with the secret redacted, and no monitoring surface, log or
// export ever carries the secret. Without the flag nothing is kept.
func TestServeCapturePayloads(t *testing.T) {
	const secret = "sk-SECRET-4242"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	exportFile := t.TempDir() + "/report.json"
	cmd := binaryCommand(ctx, t, nil, "serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-format", "json",
		"--log-level", "debug", "--interval", "100ms", "--export-file", exportFile, "--capture-payloads", "--capture-max-bytes", "4096")
	var logs testenv.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
	var base string
	for deadline := time.Now().Add(30 * time.Second); base == ""; time.Sleep(20 * time.Millisecond) {
		for _, line := range strings.Split(logs.String(), "\n") {
			var l map[string]any
			if json.Unmarshal([]byte(line), &l) == nil && l["msg"] == "starting" {
				base, _ = l["dashboard"].(string)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no start line: %s", logs.String())
		}
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "capture-test", Version: "1"}, nil).
		Connect(ctx, &mcp.StreamableClientTransport{Endpoint: base + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "enhanced_memory", Arguments: map[string]any{
		"operation": "store", "content": "deploy notes",
		"metadata": map[string]any{"api_key": secret, "Authorization": "Bearer " + secret, "team": "infra"},
	}})
	if err != nil || res.IsError {
		t.Fatalf("store: %v %+v", err, res)
	}

	var list struct {
		Calls []struct {
			ID uint64 `json:"id"`
		} `json:"calls"`
	}
	getJSON(t, base+"/api/calls?method=tools/call", &list)
	if len(list.Calls) != 1 {
		t.Fatalf("calls %+v", list.Calls)
	}
	raw := getBody(t, fmt.Sprintf("%s/api/calls/%d", base, list.Calls[0].ID))
	var detail struct {
		Capture string `json:"capture"`
		Payload *struct {
			Arguments struct {
				Value json.RawMessage `json:"value"`
			} `json:"arguments"`
			Result struct {
				Value json.RawMessage `json:"value"`
				Bytes int             `json:"bytes"`
			} `json:"result"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(raw, &detail); err != nil || detail.Capture != "on" || detail.Payload == nil {
		t.Fatalf("detail %s (%v)", raw, err)
	}
	args := string(detail.Payload.Arguments.Value)
	if !strings.Contains(args, `"api_key":"[redacted]"`) || !strings.Contains(args, `"Authorization":"[redacted]"`) ||
		!strings.Contains(args, `"team":"infra"`) || !strings.Contains(args, `"content":"deploy notes"`) {
		t.Errorf("arguments %s: want the secrets redacted and the rest kept", args)
	}
	if detail.Payload.Result.Bytes == 0 || !strings.Contains(string(detail.Payload.Result.Value), "content") {
		t.Errorf("result %s", detail.Payload.Result.Value)
	}

	// Wait for a sample and an export to have taken the call in, then
	// look everywhere.
	time.Sleep(500 * time.Millisecond)
	for _, route := range []string{"/api/calls", "/api/sessions", "/api/metrics", "/api/metrics?format=text", "/api/tools", "/metrics", "/api/config",
		fmt.Sprintf("/api/calls/%d", list.Calls[0].ID)} {
		if body := getBody(t, base+route); strings.Contains(string(body), secret) {
			t.Errorf("%s carries the secret", route)
		}
	}
	if b, err := os.ReadFile(exportFile); err != nil || strings.Contains(string(b), secret) {
		t.Errorf("export file: %v, or it carries the secret", err)
	}
	if strings.Contains(logs.String(), secret) {
		t.Error("the log carries the secret")
	}
}

// TestServeCapturesNothingByDefault: without --capture-payloads a call's
// detail says capture is off and has no payload.
func TestServeCapturesNothingByDefault(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	mcpURL := startServe(t)
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil).Connect(ctx, &mcp.StreamableClientTransport{Endpoint: mcpURL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "enhanced_memory", Arguments: map[string]any{"operation": "stats"}}); err != nil {
		t.Fatal(err)
	}
	base := strings.TrimSuffix(mcpURL, "/mcp")
	var list struct {
		Calls []struct {
			ID uint64 `json:"id"`
		} `json:"calls"`
	}
	getJSON(t, base+"/api/calls?method=tools/call", &list)
	body := string(getBody(t, fmt.Sprintf("%s/api/calls/%d", base, list.Calls[0].ID)))
	if !strings.Contains(body, `"capture":"off"`) || !strings.Contains(body, `"payload":null`) {
		t.Errorf("detail without capture: %s", body)
	}
	res, err := http.Get(base + "/api/calls/999999")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown call: %s, want 404", res.Status)
	}
}

// getBody GETs url and returns its body, failing unless it is 200.
func getBody(t *testing.T, url string) []byte {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v %s", url, res.Status, err, b)
	}
	return b
}

// TestServeCatalog reads what serve's own tool catalogue costs: every
// tool, called or not, with the tokens of its definition, before any
// client has listed them.
func TestServeCatalog(t *testing.T) {
	base := strings.TrimSuffix(startServe(t), "/mcp")
	var cat struct {
		Tools []struct {
			Name   string `json:"name"`
			Tokens int    `json:"tokens"`
			Calls  int    `json:"calls"`
		} `json:"tools"`
		ToolsListTokens int     `json:"tools_list_tokens"`
		Listed          *string `json:"listed"`
	}
	getJSON(t, base+"/api/catalog?sort=tokens", &cat)
	names := map[string]bool{}
	sum := 0
	for i, tool := range cat.Tools {
		names[tool.Name] = true
		sum += tool.Tokens
		if tool.Tokens <= 0 {
			t.Errorf("%s: %d tokens", tool.Name, tool.Tokens)
		}
		if i > 0 && tool.Tokens > cat.Tools[i-1].Tokens {
			t.Errorf("sort=tokens: %s (%d) after %s (%d)", tool.Name, tool.Tokens, cat.Tools[i-1].Name, cat.Tools[i-1].Tokens)
		}
	}
	for _, want := range []string{"enhanced_memory", "code_analysis", "performance_report", "search_nodes"} {
		if !names[want] {
			t.Errorf("catalogue %v lacks %s", names, want)
		}
	}
	// The list is tokenized whole, so tokens may merge across the joins
	// between definitions: close to their sum, not exactly it.
	if cat.Listed == nil || float64(cat.ToolsListTokens) < 0.95*float64(sum) || float64(cat.ToolsListTokens) > 1.05*float64(sum) {
		t.Errorf("list tokens %d for tools of %d in all; listed %v", cat.ToolsListTokens, sum, cat.Listed)
	}
	res, err := http.Get(base + "/api/catalog?sort=size")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("sort=size: %s, want 400", res.Status)
	}
}
