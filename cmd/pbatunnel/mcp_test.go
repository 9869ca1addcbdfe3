package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestServeStdio drives "pbatunnel serve --stdio" as a subprocess with the
// SDK's client over CommandTransport, as Claude Desktop or Cursor would.
func TestServeStdio(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "a.py"), []byte("import hashlib\nh = hashlib.md5(b'x')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := binaryCommand(ctx, t, nil, "serve", "--stdio", "--addr", "127.0.0.1:0", "--interval", "200ms",
		"--data-dir", t.TempDir(), "--allow-root", root, "--log-format", "json")
	stderr, err := os.Create(filepath.Join(t.TempDir(), "stderr.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = stderr
	client := mcp.NewClient(&mcp.Implementation{Name: "stdio-test", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "enhanced_memory", Arguments: map[string]any{"operation": "store", "content": "stdio works"}})
	if err != nil || res.IsError {
		t.Fatalf("store over stdio: %v %+v", err, res)
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "code_analysis", Arguments: map[string]any{"path": "a.py", "analysis_type": "security"}})
	if err != nil || res.IsError {
		t.Fatalf("code_analysis over stdio: %v %+v", err, res)
	}
	if b, _ := json.Marshal(res.StructuredContent); !strings.Contains(string(b), "md5") {
		t.Errorf("security finding missing: %s", b)
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "performance_report", Arguments: map[string]any{"section": "tools"}})
	if err != nil || res.IsError {
		t.Fatalf("performance_report over stdio: %v %+v", err, res)
	}
	// The report covers the counters up to now, so it shows the calls
	// just made.
	var rep struct {
		ToolMetrics map[string]struct {
			CallCount int `json:"call_count"`
		} `json:"tool_metrics"`
	}
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &rep); err != nil || rep.ToolMetrics["enhanced_memory"].CallCount != 1 {
		t.Errorf("report lacks the store call (%v): %s", err, b)
	}
	// The call log names the stdio client and its transport, and its one
	// session is live until stdin closes.
	var dash string
	startLog, _ := os.ReadFile(stderr.Name())
	for _, line := range strings.Split(string(startLog), "\n") {
		var l map[string]any
		if json.Unmarshal([]byte(line), &l) == nil && l["msg"] == "starting" {
			dash, _ = l["dashboard"].(string)
		}
	}
	if dash == "" {
		t.Fatalf("no dashboard in the start line:\n%s", startLog)
	}
	var calls struct {
		Calls []struct {
			Client    struct{ Name string }
			Transport string `json:"transport"`
			SessionID string `json:"session_id"`
			Tool      string `json:"tool"`
		} `json:"calls"`
	}
	getJSON(t, dash+"/api/calls?client=stdio-test&method=tools/call", &calls)
	if len(calls.Calls) != 3 || calls.Calls[0].Transport != "stdio" || calls.Calls[0].SessionID != "" || calls.Calls[2].Tool != "enhanced_memory" {
		t.Errorf("stdio calls %+v: want the 3 tool calls of stdio-test over stdio, without a session id", calls.Calls)
	}
	var ss struct {
		Sessions []struct {
			Transport string  `json:"transport"`
			Protocol  string  `json:"protocol_version"`
			Ended     *string `json:"ended"`
			Calls     int     `json:"calls"`
			Client    struct{ Name string }
		} `json:"sessions"`
	}
	getJSON(t, dash+"/api/sessions", &ss)
	// The go-sdk client speaks the stateless protocol over stdio: a
	// server/discover, then its calls; no initialize.
	if len(ss.Sessions) != 1 || ss.Sessions[0].Transport != "stdio" || ss.Sessions[0].Client.Name != "stdio-test" || ss.Sessions[0].Ended != nil || ss.Sessions[0].Calls != 3 || ss.Sessions[0].Protocol == "" {
		t.Errorf("stdio sessions %+v: want one live session of stdio-test with its 3 tool calls and its protocol version", ss.Sessions)
	}

	// Closing the client closes stdin: the server exits cleanly.
	if err := cs.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	stderr.Close()
	log, _ := os.ReadFile(stderr.Name())
	if strings.Contains(string(log), "DATA RACE") {
		t.Logf("%s", log)
	}
	if !strings.Contains(string(log), `"msg":"stopped"`) {
		t.Errorf("no clean stop in the log:\n%s", log)
	}
	for _, line := range strings.Split(string(log), "\n") {
		if strings.Contains(line, `"msg":"starting"`) && !strings.Contains(line, `"mcp":"stdio"`) {
			t.Errorf("start line: %s", line)
		}
	}
}

// TestServeHTTPMCP drives /mcp of "pbatunnel serve" with the SDK's
// Streamable HTTP client, then reads the calls back from /api/tools.
func TestServeHTTPMCP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := binaryCommand(ctx, t, nil, "serve", "--addr", "127.0.0.1:0", "--interval", "100ms",
		"--data-dir", t.TempDir(), "--log-format", "json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
	var dash string
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		var l map[string]any
		if json.Unmarshal(sc.Bytes(), &l) == nil && l["msg"] == "starting" {
			dash, _ = l["dashboard"].(string)
			break
		}
	}
	go func() { // keep draining the log so the server never blocks on it
		for sc.Scan() {
		}
	}()
	if dash == "" {
		t.Fatal("no start line with the dashboard address")
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "http-test", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: dash + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	for i := range 3 {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "enhanced_memory", Arguments: map[string]any{"operation": "store", "content": "note " + string(rune('a'+i))}})
		if err != nil || res.IsError {
			t.Fatalf("store over HTTP: %v %+v", err, res)
		}
	}
	if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "enhanced_memory", Arguments: map[string]any{"operation": "nope"}}); err != nil || !res.IsError {
		t.Fatalf("bad operation: %v %+v", err, res)
	}
	// /api/tools shows the calls, with real timings, once a sample has
	// taken them in.
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(dash + "/api/tools")
		if err != nil {
			t.Fatal(err)
		}
		var tools map[string]struct {
			CallCount           int     `json:"call_count"`
			ErrorCount          int     `json:"error_count"`
			AverageResponseTime float64 `json:"average_response_time"`
			LastUsed            string  `json:"last_used"`
		}
		err = json.NewDecoder(res.Body).Decode(&tools)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if em := tools["enhanced_memory"]; em.CallCount == 4 {
			if em.ErrorCount != 1 || em.AverageResponseTime <= 0 || em.LastUsed == "" {
				t.Errorf("enhanced_memory: %+v", em)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/api/tools never showed the 4 calls: %+v", tools)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeStdioPipedLines pipes lines into "pbatunnel serve --stdio" and
// closes stdin at once, as a shell does: every request is answered, the
// write just before end of input is kept, a malformed line gets a Parse
// error without ending the session, and the log says how it ended.
func TestServeStdioPipedLines(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dataDir := t.TempDir()
	input := strings.Join([]string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`this is not JSON`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"create_entities","arguments":{"entities":[{"name":"Piped","entityType":"test","observations":["kept"]}]}}}`,
	}, "\n") + "\n"
	cmd := binaryCommand(ctx, t, nil, "serve", "--stdio", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--log-format", "json")
	cmd.Stdin = strings.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("serve --stdio: %v\n%s", err, stderr.String())
	}
	answers := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var msg struct {
			ID    json.RawMessage `json:"id"`
			Error *struct {
				Code int `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal([]byte(line), &msg); err != nil {
			t.Fatalf("stdout line is not JSON: %q", line)
		}
		if _, dup := answers[string(msg.ID)]; dup {
			t.Errorf("id %s answered twice", msg.ID)
		}
		answers[string(msg.ID)] = line
		if string(msg.ID) == "null" && (msg.Error == nil || msg.Error.Code != -32700) {
			t.Errorf("the malformed line's answer: %s", line)
		}
	}
	for _, id := range []string{"1", "2", "3", "null"} {
		if _, ok := answers[id]; !ok {
			t.Errorf("no answer with id %s; stdout:\n%s", id, stdout.String())
		}
	}
	if !strings.Contains(stderr.String(), `"reason":"the MCP client closed stdin after 3 requests, all answered; 1 invalid line answered with errors"`) {
		t.Errorf("the stop line does not say what happened:\n%s", stderr.String())
	}
	if exported := runPbatunnel(t, "memory", "export", "--data-dir", dataDir); !strings.Contains(exported, "Piped") {
		t.Errorf("the entity written just before end of input is lost: %q", exported)
	}
}
