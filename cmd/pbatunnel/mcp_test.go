package main

import (
	"bufio"
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
	// Closing the client closes stdin: the server exits cleanly.
	if err := cs.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	stderr.Close()
	log, _ := os.ReadFile(stderr.Name())
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
