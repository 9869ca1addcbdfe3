package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// TestServeStoreGauges checks that serve makes the memory store's counts
// the monitor's gauges: a graph imported before it starts shows in
// /api/metrics as memory_entries_count and relationship_count.
func TestServeStoreGauges(t *testing.T) {
	clearEnv(t)
	dataDir := t.TempDir()
	graph := filepath.Join(t.TempDir(), "memory.jsonl")
	lines := []string{
		`{"type":"entity","name":"Ada","entityType":"person","observations":[]}`,
		`{"type":"entity","name":"Engine","entityType":"machine","observations":[]}`,
		`{"type":"entity","name":"Babbage","entityType":"person","observations":[]}`,
		`{"type":"relation","from":"Ada","to":"Engine","relationType":"programmed"}`,
		`{"type":"relation","from":"Babbage","to":"Engine","relationType":"designed"}`,
	}
	if err := os.WriteFile(graph, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	if code := run(t.Context(), []string{"memory", "import", "--data-dir", dataDir, graph}, io.Discard, &stderr); code != 0 {
		t.Fatalf("memory import: exit %d\n%s", code, stderr.String())
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	addr := testenv.Addr(testenv.FreePort(t))
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, []string{"serve", "--addr", addr, "--interval", "100ms", "--data-dir", dataDir}, io.Discard, io.Discard)
	}()
	base := "http://" + addr
	testenv.WaitHTTP(t, base+"/livez", waitLimit)
	var rep struct {
		SystemOverview map[string]any `json:"system_overview"`
	}
	deadline := time.Now().Add(waitLimit)
	for {
		getJSON(t, base+"/api/metrics", &rep)
		if _, sampled := rep.SystemOverview["memory_entries_count"].(float64); sampled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no memory_entries_count within %s: %v", waitLimit, rep.SystemOverview)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := rep.SystemOverview["memory_entries_count"]; got != 3.0 {
		t.Errorf("memory_entries_count = %v, want the 3 entities", got)
	}
	if got := rep.SystemOverview["relationship_count"]; got != 2.0 {
		t.Errorf("relationship_count = %v, want the 2 relations", got)
	}
	cancel()
	select {
	case code := <-exited:
		if code != 0 {
			t.Errorf("exit code = %d, want 0", code)
		}
	case <-time.After(waitLimit):
		t.Fatalf("serve did not stop within %s of its context ending", waitLimit)
	}
}
