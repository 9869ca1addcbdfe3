package loadgen

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/mcpserver"
	"github.com/mcp-pba-tunnel/pbatunnel/memory"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// The graph workload against pbatunnel's own knowledge-graph tools: it
// prepares its graph, then every call succeeds and each kind is made.
func TestGraphWorkload(t *testing.T) {
	ctx := context.Background()
	m := monitor.New(monitor.Options{DisableSystem: true})
	store, err := memory.Open(ctx, memory.Options{Path: filepath.Join(t.TempDir(), "m.db"), Monitor: m})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	srv := mcpserver.New(mcpserver.Options{Monitor: m, Memory: store})
	target := Target{Name: "pbatunnel", NewTransport: func() mcp.Transport {
		ct, st := mcp.NewInMemoryTransports()
		ss, err := srv.Connect(t.Context(), st, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ss.Close() })
		return ct
	}}
	w, err := GraphWorkload(250)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(w.(Preparer).Prepare()); n != 3+3 {
		t.Errorf("%d preparing calls for 250 entities; want 3 creating entities and 3 relations", n)
	}
	sum, err := Run(ctx, Options{Target: target, Workload: w, Concurrency: 4, Count: 200, Warmup: 20})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Calls != 200 || sum.ErrorCount != 0 {
		t.Errorf("%d calls, errors %v; want 200 without error", sum.Calls, sum.Errors)
	}
	g, err := store.ReadGraph(ctx, memory.GraphQuery{NamesOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	// 250 prepared, and a quarter of the 220 calls create one each.
	if len(g.Entities) != 250+55 || len(g.Relations) != 249 {
		t.Errorf("graph of %d entities and %d relations; want 305 and 249", len(g.Entities), len(g.Relations))
	}
	m.Sample(ctx)
	snap := m.Live(ctx)
	for _, tool := range []string{"create_entities", "add_observations", "search_nodes", "open_nodes"} {
		if ts, ok := snap.Tools[tool]; !ok || ts.Count < 50 || ts.Errors != 0 {
			t.Errorf("%s: %+v; want at least 50 calls without error", tool, ts)
		}
	}
	if _, err := GraphWorkload(5); err == nil || !strings.Contains(err.Error(), "at least 10") {
		t.Errorf("GraphWorkload(5) = %v", err)
	}
}
