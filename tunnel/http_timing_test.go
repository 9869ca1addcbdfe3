package tunnel_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel/tunneltest"
)

// The benchmarks run in two set-ups. In "same-process" the tunnel shares
// the benchmark's process (and, for HTTP, so does the server): this
// measures the tunnel's own work, without the operating system's cost of
// waking one more process per message. In "own-process" the tunnel (and the
// server) run each in a process of their own, this test binary
// re-executed, as they run in use; on a small, busy machine the wake-ups
// then dominate.
const (
	// envBenchRole names what the re-executed binary serves: "mcp" (a
	// go-sdk server), "raw" (a bare JSON-RPC answer), "proxy" (an HTTP
	// tunnel) or "stdio-proxy" (a Stdio tunnel on its stdin and stdout,
	// in front of the fake server).
	envBenchRole = "PBATUNNEL_BENCH_ROLE"
	// envBenchUpstream is the proxy's server endpoint.
	envBenchUpstream = "PBATUNNEL_BENCH_UPSTREAM"
	// envBenchOTLP, for a "proxy", is the OTLP endpoint it exports its
	// spans to (tracing off when empty).
	envBenchOTLP = "PBATUNNEL_BENCH_OTLP"
)

// rawAnswer is what the "raw" server answers to every POST.
var rawAnswer = []byte(`{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"a short answer"}]}}`)

// serveBenchRole serves what envBenchRole names, if anything: it prints
// its URL, serves until its stdin closes, and exits.
func serveBenchRole() {
	role := os.Getenv(envBenchRole)
	if role == "" {
		return
	}
	if role == "stdio-relay" {
		os.Exit(relayStdio())
	}
	if role == "stdio-proxy" {
		path, env := tunneltest.Command()
		p, err := tunnel.NewStdio(newMonitor(), tunnel.Command{Path: path, Env: env}, tunnel.StdioOptions{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		status, err := p.Run(context.Background())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(status)
	}
	h, err := benchHandler(role, os.Getenv(envBenchUpstream))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("http://" + ln.Addr().String())
	go http.Serve(ln, h)
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// benchHandler is the handler of a role; upstream is the proxy's server.
func benchHandler(role, upstream string) (http.Handler, error) {
	switch role {
	case "mcp":
		return mcpHandler(false), nil
	case "raw":
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			w.Write(rawAnswer)
		}), nil
	case "proxy":
		var obs tunnel.Observers
		if ep := os.Getenv(envBenchOTLP); ep != "" {
			tel, err := testenv.TelemetryTo(ep)
			if err != nil {
				return nil, err
			}
			obs.Telemetry = tel
		}
		return tunnel.NewHTTP(newMonitor(), upstream, tunnel.HTTPOptions{Logger: slog.New(slog.DiscardHandler), Observers: obs})
	case "collector":
		// An OTLP receiver that takes everything and reads nothing of it.
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
		}), nil
	case "relay":
		// The floor: a reverse proxy that forwards and measures nothing.
		u, err := url.Parse(upstream)
		if err != nil {
			return nil, err
		}
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = t.MaxIdleConns
		rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
		rp.Transport, rp.FlushInterval = t, -1
		rp.ErrorLog = log.New(io.Discard, "", 0)
		return rp, nil
	}
	return nil, fmt.Errorf("no benchmark role %q", role)
}

// roleCommand is this binary re-executed to serve role.
func roleCommand(role string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), envBenchRole+"="+role), env...)
	cmd.Stderr = os.Stderr
	return cmd
}

// startPiped starts cmd with pipes to its stdin and from its stdout; when
// the benchmark ends, closing its stdin ends it, and it is waited for.
func startPiped(b *testing.B, cmd *exec.Cmd) (io.WriteCloser, io.Reader) {
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		in.Close()
		cmd.Wait()
	})
	return in, out
}

// startBenchProcess runs this binary as role and returns its URL.
func startBenchProcess(b *testing.B, role string, env ...string) string {
	_, out := startPiped(b, roleCommand(role, env...))
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatalf("starting the %s process: %v", role, err)
	}
	return strings.TrimSpace(line)
}

// relayStdio is the floor of a stdio tunnel: a process between client and
// server that copies bytes both ways and reads none of them.
func relayStdio() int {
	path, env := tunneltest.Command()
	cmd := exec.Command(path)
	cmd.Env, cmd.Stderr = env, os.Stderr
	in, err := cmd.StdinPipe()
	if err == nil {
		var out io.ReadCloser
		if out, err = cmd.StdoutPipe(); err == nil {
			if err = cmd.Start(); err == nil {
				go io.Copy(os.Stdout, out)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	io.Copy(in, os.Stdin)
	in.Close()
	cmd.Wait()
	return 0
}

// benchPair returns a server's endpoint and a tunnel's in front of it,
// each in a process of its own or both in this one.
func benchPair(b *testing.B, role string, own bool) (direct, proxied string) {
	if own {
		up := startBenchProcess(b, role) + "/mcp"
		return up, startBenchProcess(b, "proxy", envBenchUpstream+"="+up) + "/mcp"
	}
	serve := func(role, upstream string) string {
		h, err := benchHandler(role, upstream)
		if err != nil {
			b.Fatal(err)
		}
		srv := httptest.NewServer(h)
		b.Cleanup(srv.Close)
		return srv.URL + "/mcp"
	}
	up := serve(role, "")
	return up, serve("proxy", up)
}

// setups runs fn in both set-ups.
func setups(b *testing.B, fn func(b *testing.B, own bool)) {
	b.Run("same-process", func(b *testing.B) { fn(b, false) })
	b.Run("own-process", func(b *testing.B) { fn(b, true) })
}

// connectHTTP opens a go-sdk client session to endpoint for a benchmark.
func connectHTTP(b *testing.B, endpoint string) *mcp.ClientSession {
	transport := &http.Transport{MaxIdleConnsPerHost: 64}
	client := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "0"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{
		Endpoint: endpoint, HTTPClient: &http.Client{Transport: transport}, DisableStandaloneSSE: true,
	}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cs.Close()
		transport.CloseIdleConnections()
	})
	return cs
}

// httpPair is a go-sdk client session straight to a go-sdk server and one
// through the tunnel to the same server.
func httpPair(b *testing.B, own bool) (direct, proxied *mcp.ClientSession) {
	d, p := benchPair(b, "mcp", own)
	return connectHTTP(b, d), connectHTTP(b, p)
}

// toolCaller returns, for a session, a tools/call of params on it that
// fails the benchmark on an error.
func toolCaller(b *testing.B, params *mcp.CallToolParams) func(cs *mcp.ClientSession) func() {
	return func(cs *mcp.ClientSession) func() {
		return func() {
			if _, err := cs.CallTool(context.Background(), params); err != nil {
				b.Fatal(err)
			}
		}
	}
}

var echoParams = &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "a short answer"}}

// BenchmarkHTTPRoundTrip times one tools/call at a time over Streamable
// HTTP between go-sdk client and server, alternately straight and through
// the tunnel.
func BenchmarkHTTPRoundTrip(b *testing.B) {
	setups(b, func(b *testing.B, own bool) {
		direct, proxied := httpPair(b, own)
		call := toolCaller(b, echoParams)
		compareRoundTrips(b, call(direct), call(proxied))
	})
}

// BenchmarkHTTPThroughput runs tools/calls from 16 goroutines at once,
// alternately straight to a go-sdk server and through the tunnel.
func BenchmarkHTTPThroughput(b *testing.B) {
	setups(b, func(b *testing.B, own bool) {
		direct, proxied := httpPair(b, own)
		compareThroughput(b, 100, parallelCalls(b, direct), parallelCalls(b, proxied))
	})
}

// parallelCalls returns a function making n tools/calls on cs from 16
// goroutines at once.
func parallelCalls(b *testing.B, cs *mcp.ClientSession) func(n int) {
	const workers = 16
	return func(n int) {
		var left atomic.Int64
		left.Store(int64(n))
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for left.Add(-1) >= 0 {
					if _, err := cs.CallTool(context.Background(), echoParams); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
	}
}

// BenchmarkHTTPRawRoundTrip is BenchmarkHTTPRoundTrip without an SDK on
// either side: a bare POST answered with a fixed JSON body, so that the
// tunnel's own cost shows.
func BenchmarkHTTPRawRoundTrip(b *testing.B) {
	setups(b, func(b *testing.B, own bool) {
		d, p := benchPair(b, "raw", own)
		post := rawPoster(b)
		compareRoundTrips(b, post(d), post(p))
	})
}

// rawPoster returns, for a URL, a bare POST of a tools/call to it, its
// answer read and dropped.
func rawPoster(b *testing.B) func(url string) func() {
	transport := &http.Transport{MaxIdleConnsPerHost: 64}
	b.Cleanup(transport.CloseIdleConnections)
	client := &http.Client{Transport: transport}
	return func(url string) func() {
		return func() {
			req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(echoCall))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Mcp-Session-Id", "bench")
			res, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
	}
}

// BenchmarkHTTPRelayFloor is BenchmarkHTTPRoundTrip and
// BenchmarkHTTPThroughput through httputil.ReverseProxy measuring nothing,
// each process on its own: what any HTTP proxy process costs on this
// machine, the floor under the tunnel's figures.
func BenchmarkHTTPRelayFloor(b *testing.B) {
	up := startBenchProcess(b, "mcp") + "/mcp"
	relay := startBenchProcess(b, "relay", envBenchUpstream+"="+up) + "/mcp"
	direct, relayed := connectHTTP(b, up), connectHTTP(b, relay)
	b.Run("round-trip", func(b *testing.B) {
		call := toolCaller(b, echoParams)
		compareRoundTrips(b, call(direct), call(relayed))
	})
	b.Run("throughput", func(b *testing.B) {
		compareThroughput(b, 100, parallelCalls(b, direct), parallelCalls(b, relayed))
	})
}
