package mcpserver_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/mcpserver"
	"github.com/mcp-pba-tunnel/pbatunnel/memory"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// Tool calls end to end — client, transport, middleware, tool, SQLite —
// over Streamable HTTP (in process, on loopback) and over stdio (a real
// "pbatunnel serve --stdio" process), for store, search and retrieve at
// 10k and 100k entries:
//
//	go test -run '^$' -bench 'ToolsCall' -benchtime 2000x ./mcpserver
//
// Each reports p50 and p99 latency and calls per second (one client, calls
// one after another).

var words = strings.Fields(`alpha beta gamma delta epsilon zeta theta iota kappa lambda sigma omega
deploy release rollback incident latency cache index query schema migration backup restore
monday tuesday meeting standup review design budget roadmap customer support ticket invoice
golang python rust kubernetes docker postgres sqlite redis kafka grafana prometheus alertmanager`)

func sentence(r *rand.Rand, n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = words[r.IntN(len(words))]
	}
	return strings.Join(w, " ")
}

var fixtures sync.Map // entries → database path, built once per run

// TestMain removes the benchmark fixtures, which outlive single
// benchmarks and would otherwise stay in the temporary directory.
func TestMain(m *testing.M) {
	code := m.Run()
	fixtures.Range(func(_, path any) bool {
		os.RemoveAll(filepath.Dir(path.(string)))
		return true
	})
	os.Exit(code)
}

// fixtureDB returns a database holding n entries, built once per run with
// four writers.
func fixtureDB(b *testing.B, n int) string {
	if p, ok := fixtures.Load(n); ok {
		return p.(string)
	}
	dir, err := os.MkdirTemp("", "pbatunnel-bench-")
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "memory.db")
	ctx := context.Background()
	s, err := memory.Open(ctx, memory.Options{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for i := w; i < n; i += 4 {
				_, err := s.Store(ctx, memory.NewEntry{Content: sentence(r, 12), ConversationID: fmt.Sprintf("c%d", i%100), Tags: []string{words[i%len(words)]}})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	s.Close()
	b.Logf("fixture of %d entries built in %v", n, time.Since(start).Round(time.Millisecond))
	fixtures.Store(n, path)
	return path
}

// copyDB gives each benchmark a database of its own, so stores made by
// one do not change the next.
func copyDB(b *testing.B, src string) string {
	dst := filepath.Join(b.TempDir(), "memory.db")
	data, err := os.ReadFile(src)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o600); err != nil {
		b.Fatal(err)
	}
	return dst
}

var calls = []struct {
	name string
	args func(r *rand.Rand) map[string]any
}{
	{"store", func(r *rand.Rand) map[string]any {
		return map[string]any{"operation": "store", "content": sentence(r, 12), "conversation_id": "bench"}
	}},
	{"search", func(r *rand.Rand) map[string]any {
		return map[string]any{"operation": "search", "query": sentence(r, 2), "limit": 10}
	}},
	{"retrieve", func(r *rand.Rand) map[string]any {
		return map[string]any{"operation": "retrieve", "conversation_id": fmt.Sprintf("c%d", r.IntN(100)), "limit": 10}
	}},
}

func runCalls(b *testing.B, cs *mcp.ClientSession, args func(*rand.Rand) map[string]any) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		t0 := time.Now()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: mcpserver.ToolEnhancedMemory, Arguments: args(r)})
		lat = append(lat, time.Since(t0))
		if err != nil || res.IsError {
			b.Fatalf("call: %v %+v", err, res)
		}
	}
	total := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	pct := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(b.N)/total.Seconds(), "calls/s")
}

func BenchmarkToolsCallHTTP(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		for _, c := range calls {
			b.Run(fmt.Sprintf("%s/entries=%dk", c.name, n/1000), func(b *testing.B) {
				ctx := context.Background()
				m := monitor.New(monitor.Options{DisableSystem: true})
				store, err := memory.Open(ctx, memory.Options{Path: copyDB(b, fixtureDB(b, n)), Monitor: m})
				if err != nil {
					b.Fatal(err)
				}
				defer store.Close()
				h, err := mcpserver.HTTPHandler(mcpserver.New(mcpserver.Options{Monitor: m, Memory: store}), nil)
				if err != nil {
					b.Fatal(err)
				}
				srv := httptest.NewServer(h)
				defer srv.Close()
				cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil).
					Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.URL}, nil)
				if err != nil {
					b.Fatal(err)
				}
				defer cs.Close()
				runCalls(b, cs, c.args)
			})
		}
	}
}

func BenchmarkToolsCallStdio(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "pbatunnel")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/pbatunnel").CombinedOutput(); err != nil {
		b.Fatalf("building pbatunnel: %v\n%s", err, out)
	}
	for _, n := range []int{10_000, 100_000} {
		for _, c := range calls {
			b.Run(fmt.Sprintf("%s/entries=%dk", c.name, n/1000), func(b *testing.B) {
				ctx := context.Background()
				dataDir := filepath.Dir(copyDB(b, fixtureDB(b, n)))
				cmd := exec.Command(bin, "serve", "--stdio", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "error")
				cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil).
					Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
				if err != nil {
					b.Fatal(err)
				}
				defer cs.Close()
				runCalls(b, cs, c.args)
			})
		}
	}
}
