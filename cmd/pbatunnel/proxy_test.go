package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel/tunneltest"
)

// The proxy tests run the fake MCP server as this test binary re-executed;
// init comes before TestMain, so the server starts before any test setup.
func init() { tunneltest.Main() }

// fakeServerArgs are the proxy's arguments after "--" that run the fake
// server, and the environment it needs (inherited through the proxy).
func fakeServerArgs() (args, env []string) {
	path, environ := tunneltest.Command()
	for _, kv := range environ {
		if strings.HasPrefix(kv, tunneltest.EnvServer+"=") || strings.HasPrefix(kv, "GORACE=") {
			env = append(env, kv)
		}
	}
	return []string{path}, env
}

// proxyProcess is the pbatunnel binary running "proxy", with the test as
// its MCP client.
type proxyProcess struct {
	t      *testing.T
	cmd    *exec.Cmd
	in     io.WriteCloser
	lines  chan []byte
	stdout bytes.Buffer // written by the reading goroutine until lines closes
	stderr syncBuffer   // serve_test.go's
	status chan int
}

func startProxy(t *testing.T, env []string, flags ...string) *proxyProcess {
	t.Helper()
	args, fakeEnv := fakeServerArgs()
	all := append([]string{"proxy", "--data-dir", t.TempDir(), "--log-format", "json"}, flags...)
	all = append(append(all, "--"), args...)
	p := &proxyProcess{t: t, lines: make(chan []byte, 256), status: make(chan int, 1)}
	p.cmd = binaryCommand(context.Background(), t, append(fakeEnv, env...), all...)
	p.cmd.Stderr = &p.stderr
	var err error
	if p.in, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.lines)
		br := bufio.NewReader(out)
		for {
			line, err := br.ReadBytes('\n')
			if len(line) > 0 {
				p.stdout.Write(line)
				p.lines <- line
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		p.in.Close()
		p.cmd.Process.Kill()
		p.wait()
		if t.Failed() {
			t.Logf("proxy stderr:\n%s", p.stderr.String())
		}
	})
	return p
}

func (p *proxyProcess) send(line string) {
	p.t.Helper()
	if _, err := io.WriteString(p.in, line+"\n"); err != nil {
		p.t.Fatalf("writing to the proxy: %v", err)
	}
}

// response reads lines until the response with the given raw id.
func (p *proxyProcess) response(id string) map[string]json.RawMessage {
	p.t.Helper()
	timer := time.NewTimer(waitLimit)
	defer timer.Stop()
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("the proxy's stdout ended before the response to %s", id)
			}
			var msg map[string]json.RawMessage
			if err := json.Unmarshal(line, &msg); err != nil {
				p.t.Fatalf("stdout line is not JSON-RPC: %q", line)
			}
			if string(msg["id"]) == id && msg["method"] == nil {
				return msg
			}
		case <-timer.C:
			p.t.Fatalf("no response to %s within %v", id, waitLimit)
		}
	}
}

// wait returns the proxy's exit status, once its stdout has been read.
func (p *proxyProcess) wait() int {
	p.t.Helper()
	select {
	case code := <-p.status:
		p.status <- code
		return code
	default:
	}
	timer := time.NewTimer(waitLimit)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-p.lines:
			if ok {
				continue
			}
		case <-timer.C:
			p.t.Fatalf("the proxy did not exit within %v", waitLimit)
		}
		break
	}
	err := p.cmd.Wait()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		p.t.Fatalf("waiting for the proxy: %v", err)
	}
	p.status <- code
	return code
}

const testInit = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"0"}}}`

func (p *proxyProcess) initialize() {
	p.t.Helper()
	res := p.response1(testInit, "1")
	if !bytes.Contains(res["result"], []byte(`"name":"`+tunneltest.ServerName+`"`)) {
		p.t.Fatalf("initialize result = %s", res["result"])
	}
	p.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
}

func (p *proxyProcess) response1(line, id string) map[string]json.RawMessage {
	p.t.Helper()
	p.send(line)
	return p.response(id)
}

func TestProxyExitsWithTheServersStatusAfterACrash(t *testing.T) {
	p := startProxy(t, nil, "--addr", "127.0.0.1:0")
	p.initialize()
	res := p.response1(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"crash","arguments":{"code":5}}}`, "2")
	var rpcErr struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(res["error"], &rpcErr); err != nil || rpcErr.Code != -32000 || !strings.Contains(rpcErr.Message, "exit status 5") {
		t.Errorf("response to the crashing call = %s, want error -32000 with the exit status", res["error"])
	}
	if code := p.wait(); code != 5 {
		t.Errorf("proxy exit status = %d, want the server's 5", code)
	}
	// Stdout is the protocol stream: nothing else may appear there.
	for _, line := range bytes.SplitAfter(p.stdout.Bytes(), []byte("\n")) {
		if len(line) > 0 && !json.Valid(line) {
			t.Errorf("stdout line is not JSON: %q", line)
		}
	}
	if !strings.Contains(p.stderr.String(), `"msg":"upstream MCP server exited"`) {
		t.Errorf("stderr lacks the exit log line:\n%s", p.stderr.String())
	}
}

func TestProxyForwardsSIGTERM(t *testing.T) {
	p := startProxy(t, nil, "--addr", "127.0.0.1:0", "--restart")
	p.initialize()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(); code != tunneltest.ExitCodeSignal {
		t.Errorf("proxy exit status = %d, want the server's %d", code, tunneltest.ExitCodeSignal)
	}
	if !strings.Contains(p.stderr.String(), "fake-mcp: got terminated") {
		t.Errorf("the server did not see SIGTERM; stderr:\n%s", p.stderr.String())
	}
}

func TestProxyRelaysWhenTheDashboardPortIsBusy(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	p := startProxy(t, nil, "--addr", busy.Addr().String())
	p.initialize()
	p.in.Close()
	if code := p.wait(); code != 0 {
		t.Errorf("proxy exit status = %d, want 0 after the client closed stdin", code)
	}
	if !strings.Contains(p.stderr.String(), "dashboard not available; proxying without it") {
		t.Errorf("stderr lacks the dashboard warning:\n%s", p.stderr.String())
	}
}

// getJSON decodes the JSON at url into v.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// metricsReport is the part of /api/metrics the proxy tests read.
type metricsReport struct {
	ToolMetrics map[string]struct {
		CallCount  uint64 `json:"call_count"`
		ErrorCount uint64 `json:"error_count"`
	} `json:"tool_metrics"`
	MethodMetrics map[string]struct {
		Count      uint64            `json:"count"`
		ErrorTypes map[string]uint64 `json:"error_types"`
	} `json:"method_metrics"`
	Processes map[string]struct {
		PID      int `json:"pid"`
		RSSBytes any `json:"rss_bytes"`
	} `json:"processes"`
	Application   map[string]any `json:"application"`
	CustomMetrics struct {
		Counters map[string]float64 `json:"counters"`
	} `json:"custom_metrics"`
}

// awaitReport polls the dashboard's report until ok accepts it: the
// figures appear with the next sample.
func awaitReport(t *testing.T, base string, ok func(metricsReport) bool) metricsReport {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		var r metricsReport
		getJSON(t, base+"/api/metrics?format=json", &r)
		if ok(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("the report did not show the expected figures within %v: %+v", waitLimit, r)
		}
		time.Sleep(50 * time.Millisecond) // polling: the sampler ticks every 100 ms
	}
}

func TestProxyDashboardShowsTheServer(t *testing.T) {
	addr := testenv.Addr(testenv.FreePort(t))
	p := startProxy(t, nil, "--addr", addr, "--interval", "100ms")
	p.initialize()
	p.response1(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`, "2")
	p.response1(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"fail","arguments":{}}}`, "3")
	base := "http://" + addr
	testenv.WaitHTTP(t, base+"/api/health", waitLimit)

	r := awaitReport(t, base, func(r metricsReport) bool {
		return r.ToolMetrics["fail"].CallCount == 1 && r.Processes[tunnel.ProcessName].PID != 0
	})
	if got := r.ToolMetrics["echo"]; got.CallCount != 1 || got.ErrorCount != 0 {
		t.Errorf("echo = %+v, want 1 call", got)
	}
	if got := r.MethodMetrics["tools/call"]; got.Count != 2 || got.ErrorTypes["tool_error"] != 1 {
		t.Errorf("tools/call = %+v, want 2 calls, 1 tool_error", got)
	}
	if rss, _ := r.Processes[tunnel.ProcessName].RSSBytes.(float64); rss <= 0 {
		t.Errorf("upstream process rss = %v, want measured", r.Processes[tunnel.ProcessName].RSSBytes)
	}
	if up, _ := r.Application[tunnel.GaugeUpstreamUp].(float64); up != 1 {
		t.Errorf("application %s = %v, want 1", tunnel.GaugeUpstreamUp, r.Application[tunnel.GaugeUpstreamUp])
	}
	if _, ok := r.CustomMetrics.Counters[tunnel.CounterMalformed]; !ok {
		t.Errorf("custom counters lack %s: %v", tunnel.CounterMalformed, r.CustomMetrics.Counters)
	}

	var cfg struct {
		Config struct {
			Upstream tunnel.Info `json:"upstream"`
		} `json:"config"`
	}
	getJSON(t, base+"/api/config", &cfg)
	up := cfg.Config.Upstream
	if up.Server == nil || up.Server.Name != tunneltest.ServerName || up.Server.Version != tunneltest.ServerVersion || !up.Up || up.PID == 0 {
		t.Errorf("/api/config upstream = %+v, want %s %s running", up, tunneltest.ServerName, tunneltest.ServerVersion)
	}
	p.in.Close()
	if code := p.wait(); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
}

func TestProxyRejectsBadInvocation(t *testing.T) {
	clearEnv(t)
	for _, env := range []string{"upstream", "listen", "restart", "max-restarts", "max-line-size", "header"} {
		t.Setenv("PBATUNNEL_"+strings.ToUpper(strings.ReplaceAll(env, "-", "_")), "")
	}
	t.Setenv("PBATUNNEL_TEST_UNSET", "") // empty counts as unset
	t.Setenv("PBATUNNEL_TEST_BROKEN", "s3cret\r\nX-Evil: 1")
	up := []string{"--upstream", "http://127.0.0.1:1/mcp"}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{name: "nothing to proxy", args: nil, want: "want a command to run (after --) or --upstream URL"},
		{name: "both", args: []string{"--upstream", "http://127.0.0.1:1/mcp", "--", "server"}, want: "not both"},
		{name: "bad upstream", args: []string{"--upstream", "ftp://x/mcp"}, want: "want http(s)://host/path"},
		{name: "bad listen", args: []string{"--listen", "8081", "--upstream", "http://127.0.0.1:1/mcp"}, want: "want host:port"},
		{name: "max restarts", args: []string{"--max-restarts", "0", "--", "server"}, want: "--max-restarts must be at least 1"},
		{name: "line size", args: []string{"--max-line-size", "10", "--", "server"}, want: "--max-line-size must be at least 1024"},
		{name: "bad flag", args: []string{"--bogus"}, want: "flag provided but not defined: -bogus"},
		{name: "open listen without token", args: []string{"--listen", "0.0.0.0:0", "--upstream", "http://127.0.0.1:1/mcp"}, want: "auth token is required"},
		{name: "open dashboard without token", args: []string{"--addr", "0.0.0.0:0", "--", "server"}, want: "dashboard on 0.0.0.0:0: an auth token is required"},
		{name: "bad allowed host", args: []string{"--allowed-host", "http://x/", "--upstream", "http://127.0.0.1:1/mcp"}, want: "want a host name or address"},
		{name: "header without colon", args: append([]string{"--header", "Authorization"}, up...), want: "want 'Name: value'"},
		{name: "bad header name", args: append([]string{"--header", "X Tenant: 1"}, up...), want: `header name "X Tenant"`},
		{name: "hop-by-hop header", args: append([]string{"--header", "Connection: close"}, up...), want: "header Connection cannot be set for the upstream: hop-by-hop"},
		{name: "host header", args: append([]string{"--header", "Host: other.example"}, up...), want: "header Host cannot be set for the upstream"},
		{name: "content length header", args: append([]string{"--header", "Content-Length: 3"}, up...), want: "header Content-Length cannot be set"},
		{name: "transfer encoding header", args: append([]string{"--header", "Transfer-Encoding: chunked"}, up...), want: "header Transfer-Encoding cannot be set"},
		{name: "header names an unset variable", args: append([]string{"--header", "Authorization: Bearer ${PBATUNNEL_TEST_UNSET}"}, up...),
			want: "the value of header Authorization: environment variable PBATUNNEL_TEST_UNSET is not set"},
		{name: "header variable with a line break", args: append([]string{"--header", "Authorization: Bearer ${PBATUNNEL_TEST_BROKEN}"}, up...),
			want: "the value of header Authorization holds a line break"},
		{name: "header brace unclosed", args: append([]string{"--header", "Authorization: Bearer ${TOKEN"}, up...), want: "${ without a closing }"},
		{name: "header from the environment", args: up, env: map[string]string{"PBATUNNEL_HEADER": "X-Tenant: 1\nUpgrade: h2c"},
			want: "header Upgrade cannot be set for the upstream: hop-by-hop"},
		{name: "header with a command", args: []string{"--header", "X-Tenant: 1", "--", "server"}, want: "--header goes with --upstream"},
		{name: "call ring too large", args: []string{"--call-ring", "2000000", "--", "server"},
			want: `invalid value "2000000" for flag -call-ring: must be at most 1000000 calls`},
		{name: "call ring from the environment", args: []string{"--", "server"}, env: map[string]string{"PBATUNNEL_CALL_RING": "0"},
			want: `environment variable PBATUNNEL_CALL_RING: invalid value "0": must be at least 1 call, got 0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), append([]string{"proxy", "--data-dir", t.TempDir()}, tt.args...), &stdout, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), tt.want)
			}
			if strings.Contains(stderr.String(), "s3cret") {
				t.Errorf("stderr %q shows a header's value", stderr.String())
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
		})
	}
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), []string{"help", "proxy"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "Usage: pbatunnel proxy") {
		t.Errorf("help proxy: exit %d, stdout %q", code, stdout.String())
	}
}

// memoryServer returns node and the entry script of the MCP reference
// server @modelcontextprotocol/server-memory, which scripts/test.sh
// installs under .cache/npm.
func memoryServer(t *testing.T) (node, script string) {
	t.Helper()
	node = testenv.Require(t, "node")
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	pkg := filepath.Join(root, ".cache", "npm", "node_modules", "@modelcontextprotocol", "server-memory")
	var manifest struct {
		Bin map[string]string `json:"bin"`
	}
	b, err := os.ReadFile(filepath.Join(pkg, "package.json"))
	if err == nil {
		err = json.Unmarshal(b, &manifest)
	}
	if err != nil || manifest.Bin["mcp-server-memory"] == "" {
		msg := fmt.Sprintf("@modelcontextprotocol/server-memory is not installed under %s (%v); run %s", pkg, err, testenv.TestCommand)
		if testenv.InCI() {
			t.Fatal(msg + ", and CI=true forbids skipping")
		}
		t.Skip("SKIPPING: " + msg)
	}
	return node, filepath.Join(pkg, manifest.Bin["mcp-server-memory"])
}

// memorySession drives a knowledge-graph session with the official Go SDK
// client over cmd's stdio and returns every result (or error) as JSON.
// during runs before the session closes.
func memorySession(t *testing.T, cmd *exec.Cmd, during func()) []string {
	t.Helper()
	return memorySessionOver(t, &mcp.CommandTransport{Command: cmd}, cmd.Path, during)
}

// memorySessionOver is memorySession over any transport, to the server
// called name.
func memorySessionOver(t *testing.T, transport mcp.Transport, name string, during func()) []string {
	t.Helper()
	ctx := t.Context()
	client := mcp.NewClient(&mcp.Implementation{Name: "proxy-test", Version: "0.1"}, nil)
	cs, err := client.Connect(ctx, transport, nil)
	if err != nil {
		t.Fatalf("connecting to %s: %v", name, err)
	}
	var out []string
	add := func(v any, err error) {
		t.Helper()
		if err != nil {
			out = append(out, "error: "+err.Error())
			return
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	call := func(name string, args map[string]any) {
		t.Helper()
		add(cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args}))
	}
	init := *cs.InitializeResult()
	add(init, nil)
	add(cs.ListTools(ctx, nil))
	call("create_entities", map[string]any{"entities": []any{
		map[string]any{"name": "Alice", "entityType": "person", "observations": []any{"writes Go"}},
		map[string]any{"name": "Bob", "entityType": "person", "observations": []any{}},
	}})
	call("create_relations", map[string]any{"relations": []any{
		map[string]any{"from": "Alice", "to": "Bob", "relationType": "knows"},
	}})
	call("add_observations", map[string]any{"observations": []any{
		map[string]any{"entityName": "Bob", "contents": []any{"reviews MCP servers"}},
	}})
	call("add_observations", map[string]any{"observations": []any{ // fails: no such entity
		map[string]any{"entityName": "Nobody", "contents": []any{"x"}},
	}})
	call("search_nodes", map[string]any{"query": "Go"})
	call("open_nodes", map[string]any{"names": []any{"Alice"}})
	call("read_graph", map[string]any{})
	call("no_such_tool", map[string]any{})
	if during != nil {
		during()
	}
	if err := cs.Close(); err != nil {
		t.Errorf("closing the session with %s: %v", name, err)
	}
	return out
}

// TestProxyRealClientAndServer puts the proxy between the official Go SDK
// client and a third-party MCP server: every result must be as without it,
// and the proxy's dashboard must show the calls.
func TestProxyRealClientAndServer(t *testing.T) {
	node, script := memoryServer(t)
	dir := t.TempDir()

	direct := exec.Command(node, script)
	direct.Env = append(os.Environ(), "MEMORY_FILE_PATH="+filepath.Join(dir, "direct.jsonl"))
	want := memorySession(t, direct, nil)

	addr := testenv.Addr(testenv.FreePort(t))
	proxied := binaryCommand(context.Background(), t, []string{"MEMORY_FILE_PATH=" + filepath.Join(dir, "proxied.jsonl"), "GORACE=atexit_sleep_ms=0"},
		"proxy", "--addr", addr, "--interval", "100ms", "--data-dir", dir, "--log-format", "json", "--", node, script)
	var stderr syncBuffer
	proxied.Stderr = &stderr
	var report metricsReport
	var cfg struct {
		Config struct {
			Upstream tunnel.Info `json:"upstream"`
		} `json:"config"`
	}
	type row struct {
		Client         struct{ Name, Version string }
		Transport      string `json:"transport"`
		Tool           string `json:"tool"`
		RequestBytes   *int64 `json:"request_bytes"`
		ResponseBytes  *int64 `json:"response_bytes"`
		ResponseTokens *int64 `json:"response_tokens"`
	}
	var readGraph row
	got := memorySession(t, proxied, func() {
		base := "http://" + addr
		// The last call (the unknown tool) ends the session's calls; a
		// sample taken before it was recorded would count only seven.
		report = awaitReport(t, base, func(r metricsReport) bool {
			return r.ToolMetrics["read_graph"].CallCount == 1 && r.MethodMetrics["tools/call"].Count == 8
		})
		getJSON(t, base+"/api/config", &cfg)
		// The call log names the stdio client from its initialize, with
		// both sizes, and the result's tokens once counted.
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			var calls struct{ Calls []row }
			getJSON(t, base+"/api/calls?tool=read_graph", &calls)
			if len(calls.Calls) == 1 && calls.Calls[0].ResponseTokens != nil {
				readGraph = calls.Calls[0]
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("read_graph never showed with its tokens: %+v", calls.Calls)
				break
			}
		}
	})
	if c := readGraph; c.Client.Name != "proxy-test" || c.Client.Version != "0.1" || c.Transport != "stdio" ||
		c.RequestBytes == nil || c.ResponseBytes == nil || c.ResponseTokens == nil || *c.ResponseTokens <= 0 {
		t.Errorf("read_graph in the call log: %+v", c)
	}
	if t.Failed() {
		t.Logf("proxy stderr:\n%s", stderr.String())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results through the proxy differ from direct (-direct +proxy):\n%s", diff)
	}

	for tool, calls := range map[string]uint64{"create_entities": 1, "create_relations": 1, "add_observations": 2, "search_nodes": 1, "open_nodes": 1, "read_graph": 1} {
		if got := report.ToolMetrics[tool].CallCount; got != calls {
			t.Errorf("tool %s: %d calls recorded, want %d", tool, got, calls)
		}
	}
	if got := report.ToolMetrics["add_observations"].ErrorCount; got != 1 {
		t.Errorf("add_observations: %d errors recorded, want 1 (the unknown entity)", got)
	}
	if got := report.MethodMetrics["tools/call"].Count; got != 8 {
		t.Errorf("tools/call: %d recorded, want 8", got)
	}
	if up := cfg.Config.Upstream; up.Server == nil || up.Server.Name != "memory-server" {
		t.Errorf("/api/config upstream = %+v, want memory-server", up)
	}
}

func TestProxyHTTP(t *testing.T) {
	server := mcp.NewServer(&mcp.Implementation{Name: "http-upstream", Version: "3.1"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "echo"}, func(_ context.Context, _ *mcp.CallToolRequest, in struct {
		Text string `json:"text"`
	}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Text}}}, nil, nil
	})
	// The requests the upstream saw, as method and Authorization.
	type seen struct{ method, auth string }
	var (
		authMu       sync.Mutex
		upstreamAuth []seen
	)
	seenAuth := func() []seen {
		authMu.Lock()
		defer authMu.Unlock()
		return slices.Clone(upstreamAuth)
	}
	mcpHandler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authMu.Lock()
		upstreamAuth = append(upstreamAuth, seen{r.Method, r.Header.Get("Authorization")})
		authMu.Unlock()
		mcpHandler.ServeHTTP(w, r)
	}))
	defer up.Close()

	// The upstream's own token comes from --header, through a variable
	// that keeps it out of the command line.
	listen := testenv.Addr(testenv.FreePort(t))
	cmd := binaryCommand(t.Context(), t, []string{"GORACE=atexit_sleep_ms=0", "PBATUNNEL_AUTH_TOKEN=pr0xy-secret", "UP_TOKEN=up-secret"},
		"proxy", "--upstream", up.URL+"/mcp", "--header", "Authorization: Bearer ${UP_TOKEN}",
		"--listen", listen, "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-format", "json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	defer close(done)
	lines := readLines(t, stderr, done)
	deadline := time.After(waitLimit)
	// Every line read is checked: the log names the headers, never their
	// values.
	secretFree := func(keep func(logLine) bool) func(logLine) bool {
		return func(l logLine) bool {
			if b, _ := json.Marshal(l); strings.Contains(string(b), "up-secret") {
				t.Errorf("the log shows the upstream's token: %s", b)
			}
			return keep(l)
		}
	}
	headers := next(t, lines, deadline, "the headers line", secretFree(func(l logLine) bool {
		return l.msg() == "setting headers on every request to the upstream"
	}))
	if diff := cmp.Diff([]any{"Authorization"}, headers["names"]); diff != "" {
		t.Errorf("headers line names (-want +got):\n%s", diff)
	}
	ready := next(t, lines, deadline, "the listening line", secretFree(func(l logLine) bool { return l.msg() == "proxying MCP over HTTP" }))
	if ready["listen"] != "http://"+listen {
		t.Errorf("listening line = %v, want http://%s", ready, listen)
	}

	// The listener answers what a web page forges, or a client without the
	// token, itself: none of it reaches the upstream.
	for _, tt := range []struct {
		host, origin, auth string
		status             int
	}{
		{host: "rebind.evil.com", auth: "Bearer pr0xy-secret", status: http.StatusForbidden},
		{origin: "http://evil.com", auth: "Bearer pr0xy-secret", status: http.StatusForbidden},
		{status: http.StatusUnauthorized},
		{auth: "Bearer wrong", status: http.StatusUnauthorized},
	} {
		req, err := http.NewRequest(http.MethodPost, "http://"+listen+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if tt.host != "" {
			req.Host = tt.host
		}
		if tt.origin != "" {
			req.Header.Set("Origin", tt.origin)
		}
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tt.status {
			t.Errorf("host %q origin %q auth %q: status %d, want %d: %s", tt.host, tt.origin, tt.auth, res.StatusCode, tt.status, body)
		}
	}
	if got := seenAuth(); len(got) > 0 {
		t.Errorf("a refused request reached the upstream (Authorization %q)", got)
	}

	client := mcp.NewClient(&mcp.Implementation{Name: "proxy-test", Version: "0"}, nil)
	cs, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{
		Endpoint:   "http://" + listen + "/mcp",
		HTTPClient: &http.Client{Transport: bearer{token: "pr0xy-secret"}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := cs.InitializeResult().ServerInfo; got.Name != "http-upstream" || got.Version != "3.1" {
		t.Errorf("server info through the proxy = %+v", got)
	}
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "over http"}})
	if err != nil || len(res.Content) != 1 || res.Content[0].(*mcp.TextContent).Text != "over http" {
		t.Errorf("echo through the proxy = %+v, %v", res, err)
	}
	cs.Close()
	// Every request of the session (POSTs, the GET stream, the DELETE that
	// ends it) carried the upstream's token, never the proxy's.
	methods := map[string]bool{}
	for i, r := range seenAuth() {
		methods[r.method] = true
		if r.auth != "Bearer up-secret" {
			t.Errorf("request %d (%s) reached the upstream with Authorization %q, want the --header's", i, r.method, r.auth)
		}
	}
	for _, m := range []string{http.MethodPost, http.MethodGet, http.MethodDelete} {
		if !methods[m] {
			t.Errorf("the upstream saw no %s; it saw %v", m, methods)
		}
	}
	next(t, lines, deadline, "the initialize log line", secretFree(func(l logLine) bool {
		return l.msg() == "upstream MCP server initialized" && l["server_name"] == "http-upstream"
	}))

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	next(t, lines, deadline, "the stop line", secretFree(func(l logLine) bool { return l.msg() == "proxy stopped" }))
	for l := range lines { // to EOF, as Wait requires
		secretFree(func(logLine) bool { return false })(l)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0", err)
	}
}

// bearer adds a bearer token to every request.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// TestProxyStdoutSharedWithStderr runs the proxy with one pipe for both
// (2>&1): the relay must work and the log must not lose lines, so stdout
// is left blocking there.
func TestProxyStdoutSharedWithStderr(t *testing.T) {
	args, env := fakeServerArgs()
	cmd := binaryCommand(t.Context(), t, env, append([]string{"proxy", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-format", "json", "--"}, args...)...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	io.WriteString(in, testInit+"\n")
	in.Close() // the proxy answers, then ends with the server
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("proxy: %v\n%s", err, out)
	}
	var answered, stopped bool
	for _, line := range strings.Split(string(out), "\n") {
		answered = answered || strings.Contains(line, `"serverInfo":{"name":"`+tunneltest.ServerName+`"`)
		stopped = stopped || strings.Contains(line, `"msg":"proxy stopped"`)
	}
	if !answered || !stopped {
		t.Errorf("output lacks the initialize response (%v) or the stop log line (%v):\n%s", answered, stopped, out)
	}
}

// TestProxyUpstreamFromEnvironment names the upstream in PBATUNNEL_UPSTREAM
// alone, as the README's table allows: the proxy takes it for --upstream
// (and so, listening beyond loopback, asks for a token).
func TestProxyUpstreamFromEnvironment(t *testing.T) {
	clearEnv(t)
	t.Setenv("PBATUNNEL_UPSTREAM", "http://127.0.0.1:1/mcp")
	t.Setenv("PBATUNNEL_AUTH_TOKEN", "")
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"proxy", "--data-dir", t.TempDir(), "--listen", "0.0.0.0:0"}, &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "auth token is required") {
		t.Errorf("exit %d, stderr %q; want 2 and the token refusal of an HTTP proxy", code, stderr.String())
	}
}
