package main

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/config"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
	"github.com/mcp-pba-tunnel/pbatunnel/loadgen"
)

func TestBenchUsageErrors(t *testing.T) {
	cmd := []string{"--", "true"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no target", []string{"--tool", "echo", "--count", "1"}, "want a command to run"},
		{"url and command", append([]string{"--url", "http://127.0.0.1:1/mcp", "--tool", "echo"}, cmd...), "not both"},
		{"bad args JSON", append([]string{"--tool", "echo", "--args", "{nope"}, cmd...), "--args"},
		{"unknown placeholder", append([]string{"--tool", "echo", "--args", `{"a":"{{x}}"}`}, cmd...), "unknown placeholder"},
		{"unknown workload", append([]string{"--workload", "nope"}, cmd...), "unknown workload"},
		{"entities without graph", append([]string{"--workload", "memory-store", "--entities", "100"}, cmd...), "--entities goes with --workload graph"},
		{"tiny graph", append([]string{"--workload", "graph", "--entities", "3"}, cmd...), "at least 10 entities"},
		{"count and duration", append([]string{"--workload", "memory-store", "--count", "5", "--duration", "1s"}, cmd...), "exclusive"},
		{"no workload", cmd, "--workload"},
		{"tool and workload", append([]string{"--tool", "x", "--workload", "memory-store"}, cmd...), "not both"},
		{"zero concurrency", append([]string{"--workload", "memory-store", "--concurrency", "0"}, cmd...), "--concurrency"},
		{"bad url", []string{"--url", "ftp://x", "--workload", "memory-store"}, "--url"},
		{"bad flag", []string{"--nope"}, "nope"},
		{"header without a colon", []string{"--url", "http://127.0.0.1:1/mcp", "--workload", "memory-store", "--header", "Authorization Bearer x"}, "want 'Name: value'"},
		{"header name with a space", []string{"--url", "http://127.0.0.1:1/mcp", "--workload", "memory-store", "--header", "X Token: x"}, "header name \"X Token\": want letters, digits"},
		{"header with a command", append([]string{"--workload", "memory-store", "--header", "X-A: b"}, cmd...), "--header goes with --url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, append([]string{"bench"}, tc.args...)...)
			if code != 2 || !strings.Contains(stderr, tc.want) || stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and %q", code, stdout, stderr, tc.want)
			}
		})
	}
}

func TestBenchUnreachable(t *testing.T) {
	code, stdout, stderr := runCmd(t, "bench", "--url", "http://127.0.0.1:1/mcp", "--workload", "memory-store", "--count", "1")
	if code != 1 || !strings.Contains(stderr, "connecting") || stdout != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 1 and a connection error", code, stdout, stderr)
	}
}

func TestBenchServeStdio(t *testing.T) {
	clearEnv(t)
	bin := binary(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"memory-store json", []string{"--count", "20", "--workload", "memory-store", "--json"}},
		{"graph json", []string{"--count", "20", "--workload", "graph", "--entities", "200", "--concurrency", "2", "--json"}},
		{"tool args concurrent", []string{"--count", "20", "--concurrency", "4", "--warmup", "2", "--json", "--tool", "enhanced_memory",
			"--args", `{"operation":"store","content":"note {{n}} by {{worker}}: {{words:4}}"}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"bench"}, tc.args...)
			args = append(args, "--", bin, "serve", "--stdio", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir())
			code, stdout, stderr := runCmd(t, args...)
			if code != 0 {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			var sum struct {
				Calls      int64            `json:"calls"`
				ErrorCount int64            `json:"error_count"`
				Errors     map[string]int64 `json:"errors"`
				Throughput float64          `json:"throughput"`
				Latency    struct {
					P50, P99 float64
				} `json:"latency_ms"`
			}
			if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
				t.Fatalf("summary is not JSON: %v\n%s", err, stdout)
			}
			if sum.Calls != 20 || sum.ErrorCount != 0 || len(sum.Errors) != 0 || sum.Throughput <= 0 || sum.Latency.P50 <= 0 || sum.Latency.P99 < sum.Latency.P50 {
				t.Errorf("summary %+v, want 20 calls without errors\nstderr: %s", sum, stderr)
			}
		})
	}
}

func TestBenchTextSummary(t *testing.T) {
	clearEnv(t)
	code, stdout, stderr := runCmd(t, "bench", "--count", "3", "--tool", "enhanced_memory", "--args", `{"operation":"nope"}`,
		"--", binary(t), "serve", "--stdio", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d\nstderr: %s", code, stderr)
	}
	for _, want := range []string{"calls:        3", "throughput:", "p99", "errors:       3"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
}

// A server that dies during a --duration run ends the run: the summary is
// printed with the reason, and the exit status says the run did not
// complete.
func TestBenchServerDies(t *testing.T) {
	clearEnv(t)
	timeout := testenv.Require(t, "timeout")
	start := time.Now()
	code, stdout, stderr := runCmd(t, "bench", "--duration", "2m", "--workload", "memory-store", "--",
		timeout, "3", binary(t), "serve", "--stdio", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir())
	if d := time.Since(start); d > time.Minute {
		t.Errorf("bench ran %v after its server died", d)
	}
	if code != 1 || !strings.Contains(stdout, "stopped:      the connection closed") || !strings.Contains(stderr, "connection closed during the run") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}

// startServe runs "pbatunnel serve" on a free loopback port with extra
// args and returns its MCP endpoint.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	return startServeEnv(t, nil, args...)
}

// startServeEnv is startServe with variables added to the environment.
func startServeEnv(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := binaryCommand(t.Context(), t, env, append([]string{"serve", "--addr", "127.0.0.1:0",
		"--data-dir", t.TempDir(), "--log-format", "json"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() })
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	lines := readLines(t, stderr, done)
	start := next(t, lines, time.After(waitLimit), "the start line", func(l logLine) bool { return l.msg() == "starting" })
	go func() { // keep draining the log so the server never blocks on it
		for range lines {
		}
	}()
	mcpURL, _ := start["mcp"].(string)
	if mcpURL == "" {
		t.Fatalf("start line without the MCP endpoint: %v", start)
	}
	return mcpURL
}

// bench reaches a server behind a token with --header or
// PBATUNNEL_AUTH_TOKEN, and names the most common error messages.
func TestBenchToken(t *testing.T) {
	clearEnv(t)
	url := startServe(t, "--auth-token", "s3cret")
	store := []string{"bench", "--url", url, "--count", "5", "--concurrency", "2", "--workload", "memory-store", "--json"}
	for _, tc := range []struct {
		name   string
		env    string // PBATUNNEL_AUTH_TOKEN
		args   []string
		code   int
		stderr string
	}{
		{name: "no token", code: 1, stderr: "Unauthorized (a server behind a token: --header 'Authorization: Bearer TOKEN' or PBATUNNEL_AUTH_TOKEN)"},
		{name: "header", args: []string{"--header", "Authorization: Bearer s3cret"}},
		{name: "environment", env: "s3cret"},
		{name: "header before environment", env: "wrong", args: []string{"--header", "authorization:Bearer s3cret"}},
		{name: "wrong token", env: "wrong", code: 1, stderr: "connecting to the MCP server"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(config.EnvVar("auth-token"), tc.env)
			code, stdout, stderr := runCmd(t, append(slices.Clone(store), tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, stderr, tc.code, tc.stderr)
			}
			if code != 0 {
				return
			}
			var sum loadgen.Summary
			if err := json.Unmarshal([]byte(stdout), &sum); err != nil || sum.Calls != 5 || sum.ErrorCount != 0 {
				t.Errorf("summary %s (%v), want 5 calls without errors", stdout, err)
			}
		})
	}

	// Errors: counted by kind and, most common first, by message.
	t.Setenv(config.EnvVar("auth-token"), "s3cret")
	failing := []string{"bench", "--url", url, "--count", "6", "--tool", "enhanced_memory", "--args", `{"operation":"nope"}`}
	code, stdout, stderr := runCmd(t, append(slices.Clone(failing), "--json")...)
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	var sum loadgen.Summary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.TopErrors) != 1 || sum.TopErrors[0].Kind != loadgen.ErrToolError || sum.TopErrors[0].Count != 6 ||
		!strings.Contains(sum.TopErrors[0].Message, `"nope"`) {
		t.Errorf("top errors %+v, want the 6 calls under their message", sum.TopErrors)
	}
	code, stdout, stderr = runCmd(t, failing...)
	if code != 0 || !strings.Contains(stdout, "most common:\n  tool_error   6      "+sum.TopErrors[0].Message+"\n") {
		t.Errorf("exit %d, stderr %s, summary:\n%s", code, stderr, stdout)
	}
}
