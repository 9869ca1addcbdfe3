package bridges

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel/tunneltest"
)

// TestMain runs the fake MCP server when the benchmarks start this binary
// as one.
func TestMain(m *testing.M) {
	tunneltest.Main()
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// pbatunnel builds the program once, as users run it (no race detector).
func pbatunnel(b *testing.B) string {
	b.Helper()
	goTool := testenv.Require(b, "go")
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "bridges-bench-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "pbatunnel")
		out, err := exec.Command(goTool, "build", "-o", binPath, "../../cmd/pbatunnel").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return binPath
}

// npmBin is the entry script of an npm package's program, installed by
// scripts/test.sh under .cache/npm.
func npmBin(b *testing.B, pkg, script string) (node, path string) {
	b.Helper()
	node = testenv.Require(b, "node")
	path = filepath.Join("..", "..", ".cache", "npm", "node_modules", pkg, script)
	if _, err := os.Stat(path); err != nil {
		msg := fmt.Sprintf("%s is not installed under .cache/npm (%v); run %s", pkg, err, testenv.TestCommand)
		if testenv.InCI() {
			b.Fatal(msg + ", and CI=true forbids skipping")
		}
		b.Skip("SKIPPING: " + msg)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		b.Fatal(err)
	}
	return node, abs
}

// start runs a program until the benchmark ends.
func start(b *testing.B, cmd *exec.Cmd) {
	b.Helper()
	var logs testenv.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if b.Failed() {
			b.Logf("%s:\n%s", cmd.Args[0], logs.String())
		}
	})
}

func connect(b *testing.B, t mcp.Transport) *mcp.ClientSession {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "bridge-bench", Version: "1"}, nil).Connect(ctx, t, legacy)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cs.Close() })
	return cs
}

// connectHTTP connects over Streamable HTTP, once the endpoint answers.
func connectHTTP(b *testing.B, url string) *mcp.ClientSession {
	b.Helper()
	var last error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "bridge-bench", Version: "1"}, nil).
			Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, DisableStandaloneSSE: true}, legacy)
		cancel()
		if err == nil {
			b.Cleanup(func() { _ = cs.Close() })
			return cs
		}
		last = err
	}
	b.Fatalf("connecting to %s: %v", url, last)
	return nil
}

// legacy is the protocol every bridge measured speaks: sessions begun by
// initialize. (The SDK's client would first try the stateless protocol of
// 2026-07-28, which the SDK's own stateful server then refuses.)
var legacy = &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"}

var echo = &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "a short answer"}}

func call(b *testing.B, cs *mcp.ClientSession) {
	if _, err := cs.CallTool(context.Background(), echo); err != nil {
		b.Fatal(err)
	}
}

// compare times b.N calls one at a time, alternately direct and through
// the bridge, then calls/s with 8 in flight on each, in alternating
// rounds: the added p50 and p99 are the differences of the percentiles.
func compare(b *testing.B, direct, bridged *mcp.ClientSession) {
	for range 20 { // warm both
		call(b, direct)
		call(b, bridged)
	}
	dt, bt := make([]time.Duration, 0, b.N), make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		call(b, direct)
		mid := time.Now()
		call(b, bridged)
		dt, bt = append(dt, mid.Sub(start)), append(bt, time.Since(mid))
	}
	b.StopTimer()
	d50, d99 := pct(dt)
	b50, b99 := pct(bt)
	b.ReportMetric(d50, "direct-p50-µs")
	b.ReportMetric(b50-d50, "added-p50-µs")
	b.ReportMetric(b99-d99, "added-p99-µs")
	const inFlight, rounds = 8, 4
	perRound := max(b.N/rounds, 50)
	var dTime, bTime time.Duration
	for range rounds {
		dTime += parallel(b, direct, inFlight, perRound)
		bTime += parallel(b, bridged, inFlight, perRound)
	}
	n := float64(rounds * perRound)
	b.ReportMetric(n/dTime.Seconds(), "direct-calls/s")
	b.ReportMetric(n/bTime.Seconds(), "bridged-calls/s")
}

// parallel makes n calls on cs, k at a time, and returns how long they took.
func parallel(b *testing.B, cs *mcp.ClientSession, k, n int) time.Duration {
	work := make(chan struct{}, n)
	for range n {
		work <- struct{}{}
	}
	close(work)
	start := time.Now()
	var wg sync.WaitGroup
	for range k {
		wg.Go(func() {
			for range work {
				call(b, cs)
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

func pct(d []time.Duration) (p50, p99 float64) {
	slices.Sort(d)
	at := func(q float64) float64 { return float64(d[int(q*float64(len(d)-1))].Nanoseconds()) / 1000 }
	return at(0.5), at(0.99)
}

// fakeServer is the command of the fake stdio MCP server.
func fakeServer() (path string, env []string) { return tunneltest.Command() }

// BenchmarkStdioServerOverHTTP: a stdio server served over Streamable
// HTTP by pbatunnel, supergateway (stateful: a process per session, as
// pbatunnel) and mcp-proxy, against the same server over stdio direct.
func BenchmarkStdioServerOverHTTP(b *testing.B) {
	if runtime.GOOS == "windows" {
		b.Skip("SKIPPING: unix only")
	}
	server, env := fakeServer()
	for _, br := range []struct {
		name  string
		start func(b *testing.B, port string) *exec.Cmd
	}{
		{"pbatunnel", func(b *testing.B, port string) *exec.Cmd {
			return exec.Command(pbatunnel(b), "proxy", "--addr", "127.0.0.1:0", "--data-dir", b.TempDir(), "--log-level", "error",
				"--listen", "127.0.0.1:"+port, "--", server)
		}},
		{"supergateway", func(b *testing.B, port string) *exec.Cmd {
			node, script := npmBin(b, "supergateway", "dist/index.js")
			return exec.Command(node, script, "--stdio", server, "--outputTransport", "streamableHttp", "--stateful",
				"--port", port, "--logLevel", "none")
		}},
		{"mcp-proxy", func(b *testing.B, port string) *exec.Cmd {
			node, script := npmBin(b, "mcp-proxy", "dist/bin/mcp-proxy.mjs")
			return exec.Command(node, script, "--port", port, "--host", "127.0.0.1", "--", server)
		}},
	} {
		b.Run(br.name, func(b *testing.B) {
			direct := exec.Command(server)
			direct.Env = env
			dcs := connect(b, &mcp.CommandTransport{Command: direct})
			port := strings.TrimPrefix(testenv.Addr(testenv.FreePort(b)), "127.0.0.1:")
			cmd := br.start(b, port)
			cmd.Env = env // the bridge's child is the fake server
			start(b, cmd)
			compare(b, dcs, connectHTTP(b, "http://127.0.0.1:"+port+"/mcp"))
		})
	}
}

// BenchmarkHTTPServerOverStdio: a Streamable HTTP server (the Go SDK's,
// in this process) reached by a stdio client through pbatunnel and
// through mcp-remote, against the same server over HTTP direct.
func BenchmarkHTTPServerOverStdio(b *testing.B) {
	srv := mcp.NewServer(&mcp.Implementation{Name: "http-bench", Version: "1"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "echo"}, func(_ context.Context, _ *mcp.CallToolRequest, in struct {
		Text string `json:"text"`
	}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Text}}}, nil, nil
	})
	up := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil))
	b.Cleanup(up.Close)
	url := up.URL + "/mcp"
	for _, br := range []struct {
		name    string
		command func(b *testing.B) *exec.Cmd
	}{
		{"pbatunnel", func(b *testing.B) *exec.Cmd {
			return exec.Command(pbatunnel(b), "proxy", "--addr", "127.0.0.1:0", "--data-dir", b.TempDir(), "--log-level", "error",
				"--stdio", "--upstream", url)
		}},
		{"mcp-remote", func(b *testing.B) *exec.Cmd {
			node, script := npmBin(b, "mcp-remote", "dist/proxy.js")
			cmd := exec.Command(node, script, url, "--transport", "http-only")
			cmd.Env = append(os.Environ(), "MCP_REMOTE_CONFIG_DIR="+b.TempDir())
			return cmd
		}},
	} {
		b.Run(br.name, func(b *testing.B) {
			dcs := connectHTTP(b, url)
			compare(b, dcs, connect(b, &mcp.CommandTransport{Command: br.command(b)}))
		})
	}
}
