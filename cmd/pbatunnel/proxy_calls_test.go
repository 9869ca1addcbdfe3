package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// TestProxyHTTPCallLog puts the proxy between a real go-sdk client and a
// real go-sdk server over Streamable HTTP, with payload capture on: the
// call log names the client and the session of each request with its
// sizes, the tool result's tokens are counted, the catalogue is the
// upstream's as listed, the secret in the arguments is redacted, and
// the client's DELETE ends its session.
func TestProxyHTTPCallLog(t *testing.T) {
	const secret = "pw-SECRET-77"
	server := mcp.NewServer(&mcp.Implementation{Name: "up", Version: "1"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "echo", Description: "Say it back."}, func(_ context.Context, _ *mcp.CallToolRequest, in struct {
		Text     string `json:"text"`
		Password string `json:"password"`
	}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Text}}}, nil, nil
	})
	up := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil))
	defer up.Close()

	listen := testenv.Addr(testenv.FreePort(t))
	dashPort := testenv.FreePort(t)
	base := "http://" + testenv.Addr(dashPort)
	cmd := binaryCommand(t.Context(), t, []string{"GORACE=atexit_sleep_ms=0"},
		"proxy", "--upstream", up.URL+"/mcp", "--listen", listen, "--addr", testenv.Addr(dashPort),
		"--data-dir", t.TempDir(), "--capture-payloads")
	var logs testenv.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	testenv.WaitHTTP(t, base+"/livez", 30*time.Second)
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(logs.String(), "proxying MCP over HTTP"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the proxy never listened:\n%s", logs.String())
		}
	}

	cs, err := mcp.NewClient(&mcp.Implementation{Name: "proxied-agent", Version: "4.2"}, nil).
		Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: "http://" + listen + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.ListTools(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "hello world", "password": secret}})
	if err != nil || res.IsError {
		t.Fatalf("echo: %v %+v", err, res)
	}
	session := cs.ID()

	type callRow struct {
		ID             uint64 `json:"id"`
		SessionID      string `json:"session_id"`
		Client         struct{ Name, Version string }
		Transport      string `json:"transport"`
		Method         string `json:"method"`
		Tool           string `json:"tool"`
		RequestBytes   *int64 `json:"request_bytes"`
		ResponseBytes  *int64 `json:"response_bytes"`
		ResponseTokens *int64 `json:"response_tokens"`
	}
	var echo callRow
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var list struct{ Calls []callRow }
		getJSON(t, base+"/api/calls?tool=echo", &list)
		if len(list.Calls) == 1 && list.Calls[0].ResponseTokens != nil {
			echo = list.Calls[0]
			break
		}
		if time.Now().After(deadline) {
			var all any
			getJSON(t, base+"/api/calls", &all)
			b, _ := json.Marshal(all)
			t.Fatalf("the echo call, with its tokens, never showed: %+v\nall calls: %s", list.Calls, b)
		}
	}
	if echo.SessionID != session || echo.Client.Name != "proxied-agent" || echo.Client.Version != "4.2" || echo.Transport != "http" ||
		echo.RequestBytes == nil || *echo.RequestBytes < 50 || echo.ResponseBytes == nil || *echo.ResponseBytes < 30 || *echo.ResponseTokens != 2 {
		b, _ := json.Marshal(echo)
		t.Errorf("echo call %s: want the client, session %s, both sizes and 2 tokens (\"hello world\")", b, session)
	}
	var initRow struct{ Calls []callRow }
	getJSON(t, base+"/api/calls?method=initialize", &initRow)
	if len(initRow.Calls) != 1 || initRow.Calls[0].SessionID != session || initRow.Calls[0].Client.Name != "proxied-agent" {
		t.Errorf("initialize %+v: it learns its session from the answer", initRow.Calls)
	}

	detail := string(getBody(t, fmt.Sprintf("%s/api/calls/%d", base, echo.ID)))
	if strings.Contains(detail, secret) || !strings.Contains(detail, `"password":"[redacted]"`) || !strings.Contains(detail, `hello world`) {
		t.Errorf("captured payload: %s", detail)
	}

	var cat struct {
		Tools []struct {
			Name   string `json:"name"`
			Tokens int    `json:"tokens"`
		} `json:"tools"`
	}
	getJSON(t, base+"/api/catalog", &cat)
	if len(cat.Tools) != 1 || cat.Tools[0].Name != "echo" || cat.Tools[0].Tokens <= 0 {
		t.Errorf("catalogue %+v: want the upstream's echo", cat.Tools)
	}

	// Closing the client deletes the session through the proxy.
	if err := cs.Close(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var ss struct {
			Sessions []struct {
				ID     string  `json:"id"`
				Ended  *string `json:"ended"`
				Client struct{ Name string }
			} `json:"sessions"`
		}
		getJSON(t, base+"/api/sessions", &ss)
		if len(ss.Sessions) == 1 && ss.Sessions[0].ID == session && ss.Sessions[0].Ended != nil && ss.Sessions[0].Client.Name == "proxied-agent" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sessions %+v: want %s ended", ss.Sessions, session)
		}
	}
	if strings.Contains(logs.String(), secret) {
		t.Error("the proxy's log carries the secret")
	}
}
