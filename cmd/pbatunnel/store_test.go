package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// TestServeOnPostgres runs serve with --store on a real PostgreSQL:
// enhanced_memory stores and finds through it, a second server on the
// same database sees the first's entries, readiness checks the
// database, and /api/config shows the URL without its password.
func TestServeOnPostgres(t *testing.T) {
	clearEnv(t)
	pg := testenv.RequirePostgres(t)
	url, drop, err := pg.CreateDatabase(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = drop() })
	withPassword := strings.Replace(url, "postgres@", "postgres:s3cret@", 1) // trust auth ignores it
	var endpoints []string
	for range 2 {
		endpoints = append(endpoints, startServe(t, "--store", withPassword))
	}
	ctx := t.Context()
	connect := func(endpoint string) *mcp.ClientSession {
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "store-test", Version: "1"}, nil).
			Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cs.Close() })
		return cs
	}
	memoryCall := func(cs *mcp.ClientSession, args map[string]any) map[string]any {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "enhanced_memory", Arguments: args})
		if err != nil || res.IsError {
			t.Fatalf("enhanced_memory %v: %v %+v", args, err, res)
		}
		b, _ := json.Marshal(res.StructuredContent)
		var out map[string]any
		_ = json.Unmarshal(b, &out)
		return out
	}
	first, second := connect(endpoints[0]), connect(endpoints[1])
	memoryCall(first, map[string]any{"operation": "store", "content": "PostgreSQL keeps the migrations of café orders", "tags": []any{"db"}})
	memoryCall(first, map[string]any{"operation": "store", "content": "an unrelated note"})

	found := memoryCall(second, map[string]any{"operation": "search", "query": "migration cafe"})
	b, _ := json.Marshal(found)
	if !strings.Contains(string(b), "café orders") || strings.Contains(string(b), "unrelated") {
		t.Errorf("search on the second server: %s", b)
	}

	base := strings.TrimSuffix(endpoints[0], "/mcp")
	if got := checkProbes(t, base); len(got) != 1 || got[0] != "store" {
		t.Errorf("passed readiness checks %q, want [store]", got)
	}
	var cfg struct {
		Config map[string]any `json:"config"`
	}
	getJSON(t, base+"/api/config", &cfg)
	if s, _ := cfg.Config["store"].(string); strings.Contains(s, "s3cret") || !strings.Contains(s, "postgres:xxxxx@") {
		t.Errorf("/api/config store = %q", s)
	}

	// The database gone, the server is no longer ready: a load balancer
	// sends it no new clients.
	if err := drop(); err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "store") {
		t.Errorf("/readyz without the database: %d %s", res.StatusCode, body)
	}
}

// A server whose database cannot be reached does not start, and says
// which database, without its password.
func TestServeStoreUnreachable(t *testing.T) {
	clearEnv(t)
	port := testenv.FreePort(t) // nothing listens there
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(),
		"--store", "postgres://app:s3cret@" + testenv.Addr(port) + "/pbatunnel"}, io.Discard, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), "memory store") || !strings.Contains(stderr.String(), testenv.Addr(port)) ||
		strings.Contains(stderr.String(), "s3cret") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr.String())
	}
}

// A server whose database restarts under it (an upgrade, a failover)
// goes on: the tool calls after the restart succeed on new connections,
// and the server is ready again.
func TestServeSurvivesDatabaseRestart(t *testing.T) {
	clearEnv(t)
	testenv.RequirePostgres(t) // skips, or fails under CI, without PostgreSQL
	pg, err := testenv.StartPostgres()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pg.Stop)
	endpoint := startServe(t, "--store", pg.Database(t))
	ctx := t.Context()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "store-test", Version: "1"}, nil).
		Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	call := func(args map[string]any) error {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "enhanced_memory", Arguments: args})
		if err == nil && res.IsError {
			b, _ := json.Marshal(res.Content)
			err = errors.New(string(b))
		}
		return err
	}
	// Several connections in the server's pool, all used just now.
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			if err := call(map[string]any{"operation": "store", "content": fmt.Sprintf("note %d before", i)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := pg.Restart(); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		if err := call(map[string]any{"operation": "store", "content": fmt.Sprintf("note %d after", i)}); err != nil {
			t.Errorf("store %d after the restart: %v", i, err)
		}
		if err := call(map[string]any{"operation": "search", "query": "note"}); err != nil {
			t.Errorf("search %d after the restart: %v", i, err)
		}
	}
	if got := checkProbes(t, strings.TrimSuffix(endpoint, "/mcp")); len(got) != 1 || got[0] != "store" {
		t.Errorf("passed readiness checks %q after the restart, want [store]", got)
	}
}
