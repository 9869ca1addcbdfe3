package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// startBridge runs "proxy --listen -- node server-memory" with its graph
// in file, and returns the MCP endpoint and the dashboard's base URL.
func startBridge(t *testing.T, node, script, file string) (endpoint, dash string) {
	t.Helper()
	listen, addr := testenv.Addr(testenv.FreePort(t)), testenv.Addr(testenv.FreePort(t))
	cmd := binaryCommand(context.Background(), t, []string{"MEMORY_FILE_PATH=" + file, "GORACE=atexit_sleep_ms=0"},
		"proxy", "--addr", addr, "--interval", "100ms", "--data-dir", t.TempDir(), "--listen", listen, "--", node, script)
	startUntil(t, cmd, "proxying MCP over HTTP")
	return "http://" + listen + "/mcp", "http://" + addr
}

// TestBridgeGoClientAndRealServer: the Go SDK client over Streamable HTTP
// gets from the reference stdio server through the bridge what it gets
// over stdio direct, and the dashboard shows the calls by session.
func TestBridgeGoClientAndRealServer(t *testing.T) {
	node, script := memoryServer(t)
	dir := t.TempDir()
	direct := exec.Command(node, script)
	direct.Env = append(os.Environ(), "MEMORY_FILE_PATH="+filepath.Join(dir, "direct.jsonl"))
	want := memorySession(t, direct, nil)

	endpoint, dash := startBridge(t, node, script, filepath.Join(dir, "bridged.jsonl"))
	var session string
	got := memorySessionOver(t, &mcp.StreamableClientTransport{Endpoint: endpoint}, endpoint, func() {
		var calls struct {
			Calls []struct {
				Session   string `json:"session_id"`
				Transport string `json:"transport"`
				Client    struct{ Name string }
			}
		}
		getJSON(t, dash+"/api/calls?method=tools/call", &calls)
		if len(calls.Calls) != 8 {
			t.Errorf("%d tools/calls in the call log, want 8", len(calls.Calls))
		}
		for _, c := range calls.Calls {
			if c.Session == "" || c.Transport != "http" || c.Client.Name != "proxy-test" {
				t.Errorf("call %+v", c)
			}
			session = c.Session
		}
	})
	// The session id is the only difference in the results: none carries it.
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results through the bridge differ from direct (-direct +bridge):\n%s", diff)
	}
	if session == "" {
		t.Error("no session in the call log")
	}
}

// TestBridgeTypeScriptClient: the official TypeScript SDK client, over
// Streamable HTTP through the bridge, gets what it gets over stdio direct.
func TestBridgeTypeScriptClient(t *testing.T) {
	node, script := memoryServer(t)
	sdk := filepath.Join(filepath.Dir(filepath.Dir(script)), "..", "sdk")
	if _, err := os.Stat(filepath.Join(sdk, "package.json")); err != nil {
		t.Fatalf("the TypeScript SDK is not installed beside server-memory: %v; run %s", err, testenv.TestCommand)
	}
	dir := t.TempDir()
	run := func(file string, args ...string) []string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), node, append([]string{filepath.Join("testdata", "tsclient.mjs")}, args...)...)
		cmd.Env = append(os.Environ(), "MCP_SDK_DIR="+sdk, "MEMORY_FILE_PATH="+file)
		var stderr testenv.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, stderr.String())
		}
		return strings.Split(strings.TrimSpace(string(out)), "\n")
	}
	want := run(filepath.Join(dir, "direct.jsonl"), "stdio", node, script)
	endpoint, dash := startBridge(t, node, script, filepath.Join(dir, "bridged.jsonl"))
	got := run("", endpoint)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the TypeScript client's results through the bridge differ from direct (-direct +bridge):\n%s", diff)
	}
	if len(want) != 8 {
		t.Errorf("%d results, want 8:\n%s", len(want), strings.Join(want, "\n"))
	}
	var calls struct {
		Calls []struct {
			Client struct{ Name string }
		}
	}
	getJSON(t, dash+"/api/calls?method=tools/call", &calls)
	if len(calls.Calls) != 6 || calls.Calls[0].Client.Name != "ts-client" {
		t.Errorf("call log %+v", calls.Calls)
	}
}

// TestStdioToHTTPBridge: a stdio client reaches an HTTP server through
// "proxy --stdio --upstream" (here the other bridge, in front of the
// reference stdio server): the Go SDK client and the TypeScript SDK
// client get what they get from the server direct.
func TestStdioToHTTPBridge(t *testing.T) {
	node, script := memoryServer(t)
	dir := t.TempDir()
	direct := exec.Command(node, script)
	direct.Env = append(os.Environ(), "MEMORY_FILE_PATH="+filepath.Join(dir, "direct.jsonl"))
	want := memorySession(t, direct, nil)

	endpoint, _ := startBridge(t, node, script, filepath.Join(dir, "bridged.jsonl"))
	dash := testenv.Addr(testenv.FreePort(t))
	remote := binaryCommand(context.Background(), t, []string{"GORACE=atexit_sleep_ms=0"},
		"proxy", "--stdio", "--upstream", endpoint, "--addr", dash, "--interval", "100ms", "--data-dir", t.TempDir())
	var stderr testenv.Buffer
	remote.Stderr = &stderr
	var calls struct {
		Calls []struct {
			Transport string `json:"transport"`
			Session   string `json:"session_id"`
		}
	}
	got := memorySession(t, remote, func() {
		getJSON(t, "http://"+dash+"/api/calls?method=tools/call", &calls)
	})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results through both bridges differ from direct (-direct +bridged):\n%s\n%s", diff, stderr.String())
	}
	if len(calls.Calls) != 8 || calls.Calls[0].Transport != "http" || calls.Calls[0].Session == "" {
		t.Errorf("the stdio proxy's call log: %+v", calls.Calls)
	}
	if err := remote.Wait(); err != nil && !strings.Contains(err.Error(), "Wait was already called") {
		t.Logf("proxy --stdio: %v", err)
	}

	sdk := filepath.Join(filepath.Dir(filepath.Dir(script)), "..", "sdk")
	ts := func(args ...string) []string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), node, append([]string{filepath.Join("testdata", "tsclient.mjs")}, args...)...)
		cmd.Env = append(os.Environ(), "MCP_SDK_DIR="+sdk, "MEMORY_FILE_PATH="+filepath.Join(dir, "ts-direct.jsonl"))
		var errs testenv.Buffer
		cmd.Stderr = &errs
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errs.String())
		}
		return strings.Split(strings.TrimSpace(string(out)), "\n")
	}
	tsWant := ts("stdio", node, script)
	tsGot := ts("stdio", binary(t), "proxy", "--stdio", "--upstream", endpoint, "--addr", "127.0.0.1:0", "--data-dir", t.TempDir())
	// The bridge's server keeps its graph across sessions: the Go
	// client's entities are there already, so the TypeScript session
	// is compared from a fresh server's point of view where it can be.
	if len(tsGot) != len(tsWant) || tsGot[0] != tsWant[0] || tsGot[1] != tsWant[1] {
		t.Errorf("the TypeScript client through both bridges:\n%s\nwant as direct:\n%s", strings.Join(tsGot, "\n"), strings.Join(tsWant, "\n"))
	}
}
