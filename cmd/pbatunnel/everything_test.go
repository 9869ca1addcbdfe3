package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// everythingServer returns node and the entry script of the MCP reference
// server @modelcontextprotocol/server-everything, which scripts/test.sh
// installs under .cache/npm: the server that exercises every part of the
// protocol (sampling, elicitation, roots, progress, notifications).
func everythingServer(t *testing.T) (node, script string) {
	t.Helper()
	node, memory := memoryServer(t) // the same install; fails or skips alike
	script = filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(memory))), "server-everything", "dist", "index.js")
	if _, err := os.Stat(script); err != nil {
		t.Fatalf("@modelcontextprotocol/server-everything is not installed beside server-memory: %v; run %s", err, testenv.TestCommand)
	}
	return node, script
}

// everythingSession drives server-everything with the Go SDK client over
// transport: the tools it offers this client, plain calls, a call with
// progress, and calls that make the server ask the client (sampling,
// elicitation, roots), each answered by the client. It returns every
// result, and the progress seen, as JSON.
func everythingSession(t *testing.T, transport mcp.Transport) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var (
		mu       sync.Mutex
		progress []float64
	)
	client := mcp.NewClient(&mcp.Implementation{Name: "everything-test", Version: "1"}, &mcp.ClientOptions{
		CreateMessageHandler: func(_ context.Context, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			return &mcp.CreateMessageResult{Model: "test-model", Role: "assistant", Content: &mcp.TextContent{Text: "sampled: " + fmt.Sprint(len(req.Params.Messages))}}, nil
		},
		ElicitationHandler: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"name": "Ada", "check": true}}, nil
		},
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			mu.Lock()
			progress = append(progress, req.Params.Progress)
			mu.Unlock()
		},
	})
	client.AddRoots(&mcp.Root{URI: "file:///work", Name: "work"})
	cs, err := client.Connect(ctx, transport, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	var out []string
	add := func(v any, err error) {
		t.Helper()
		if err != nil {
			out = append(out, "error: "+err.Error())
			return
		}
		b, _ := json.Marshal(v)
		out = append(out, string(b))
	}
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	add(names, nil)
	call := func(name string, args map[string]any, meta mcp.Meta) {
		t.Helper()
		add(cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args, Meta: meta}))
	}
	call("echo", map[string]any{"message": "hello"}, nil)
	call("get-sum", map[string]any{"a": 2, "b": 40}, nil)
	call("trigger-long-running-operation", map[string]any{"duration": 0.3, "steps": 3}, mcp.Meta{"progressToken": "p1"})
	call("trigger-sampling-request", map[string]any{"prompt": "hi", "maxTokens": 10}, nil)
	call("trigger-elicitation-request", map[string]any{}, nil)
	call("get-roots-list", map[string]any{}, nil)
	call("no-such-tool", map[string]any{}, nil)
	mu.Lock()
	// The last notification may come after the answer, and a client may
	// or may not take it then: that progress came is what compares.
	add(len(progress) > 0, nil)
	mu.Unlock()
	return out
}

// TestBridgesWithEverything: server-everything, on stdio and on
// Streamable HTTP, gives the Go SDK client and the TypeScript SDK client
// through each bridge what it gives them direct: the tools offered for the client's capabilities, the
// server's sampling, elicitation and roots requests answered by the
// client, progress.
func TestBridgesWithEverything(t *testing.T) {
	node, script := everythingServer(t)

	sdk := filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(script))), "sdk")
	ts := func(args ...string) []string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), node, append([]string{filepath.Join("testdata", "tseverything.mjs")}, args...)...)
		cmd.Env = append(os.Environ(), "MCP_SDK_DIR="+sdk)
		var errs testenv.Buffer
		cmd.Stderr = &errs
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("the TypeScript client %v: %v\n%s", args, err, errs.String())
		}
		return strings.Split(strings.TrimSpace(string(out)), "\n")
	}

	// A stdio server for HTTP clients.
	want := everythingSession(t, &mcp.CommandTransport{Command: exec.Command(node, script, "stdio")})
	listen := testenv.Addr(testenv.FreePort(t))
	bridge := binaryCommand(context.Background(), t, []string{"GORACE=atexit_sleep_ms=0"},
		"proxy", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--listen", listen, "--", node, script, "stdio")
	startUntil(t, bridge, "proxying MCP over HTTP")
	got := everythingSession(t, &mcp.StreamableClientTransport{Endpoint: "http://" + listen + "/mcp"})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stdio server-everything over HTTP differs from stdio direct (-direct +bridged):\n%s", diff)
	}
	checkEverything(t, want)
	tsWant, tsGot := ts("stdio", node, script, "stdio"), ts("http://"+listen+"/mcp")
	if diff := cmp.Diff(tsWant, tsGot); diff != "" {
		t.Errorf("the TypeScript client: stdio server-everything over HTTP differs from stdio direct (-direct +bridged):\n%s", diff)
	}
	checkEverything(t, tsWant)

	// An HTTP server for stdio clients.
	port := testenv.FreePort(t)
	server := exec.Command(node, script, "streamableHttp")
	server.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", port))
	startUntil(t, server, "listening on port")
	endpoint := fmt.Sprintf("http://127.0.0.1:%d/mcp", port)
	want = everythingSession(t, &mcp.StreamableClientTransport{Endpoint: endpoint})
	remote := binaryCommand(context.Background(), t, []string{"GORACE=atexit_sleep_ms=0"},
		"proxy", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--stdio", "--upstream", endpoint)
	got = everythingSession(t, &mcp.CommandTransport{Command: remote})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("HTTP server-everything over stdio differs from HTTP direct (-direct +bridged):\n%s", diff)
	}
	checkEverything(t, want)
	tsWant, tsGot = ts(endpoint), ts("stdio", binary(t), "proxy", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--stdio", "--upstream", endpoint)
	if diff := cmp.Diff(tsWant, tsGot); diff != "" {
		t.Errorf("the TypeScript client: HTTP server-everything over stdio differs from HTTP direct (-direct +bridged):\n%s", diff)
	}
	checkEverything(t, tsWant)
}

// checkEverything checks that a session did what it is for, so that two
// sessions failing alike do not pass as alike.
func checkEverything(t *testing.T, s []string) {
	t.Helper()
	for i, want := range []string{"trigger-sampling-request", "hello", "42", "Long running operation completed", "sampled: 1", "Ada", "file:///work", `"isError":true`, "true"} {
		if i >= len(s) || !strings.Contains(s[i], want) {
			t.Errorf("result %d lacks %q; the session:\n%s", i, want, strings.Join(s, "\n"))
			return
		}
	}
}
