package mcpserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/mcpserver"
	"github.com/mcp-pba-tunnel/pbatunnel/memory"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// otherStore is an implementation of memory.Store that is not SQLite's:
// it answers Stats and SearchNodes itself and hands the rest on.
type otherStore struct {
	inner // embedded under another name: a field named Store would hide the method
}

type inner = memory.Store

func (otherStore) Stats(context.Context) (memory.Stats, error) {
	return memory.Stats{Entries: 12345, ByContextType: map[string]int{"elsewhere": 12345}}, nil
}

func (otherStore) SearchNodes(context.Context, memory.NodeQuery) (memory.GraphPage, error) {
	return memory.GraphPage{}, errors.New("the other database is down")
}

// The tools reach the store through the interface alone: another
// implementation serves them, its answers and its errors come through, and
// what it hands on still works.
func TestToolsUseAnyStore(t *testing.T) {
	ctx := t.Context()
	m := monitor.New(monitor.Options{DisableSystem: true})
	sqlite, err := memory.Open(ctx, memory.Options{Path: filepath.Join(t.TempDir(), "memory.db"), Monitor: m})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqlite.Close() })
	srv := mcpserver.New(mcpserver.Options{Monitor: m, Memory: otherStore{sqlite}})
	st, ct := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close(); ss.Wait() })
	call := func(tool string, args map[string]any) *mcp.CallToolResult {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
		if err != nil {
			t.Fatalf("%s: protocol error %v", tool, err)
		}
		return res
	}

	res := call(mcpserver.ToolEnhancedMemory, map[string]any{"operation": "stats"})
	var out struct {
		Stats memory.Stats `json:"stats"`
	}
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &out); err != nil || res.IsError || out.Stats.Entries != 12345 {
		t.Errorf("stats from the other store: %v, %s", err, b)
	}

	res = call("search_nodes", map[string]any{"query": "anything"})
	if b, _ := json.Marshal(res.Content); !res.IsError || !strings.Contains(string(b), "the other database is down") {
		t.Errorf("search_nodes on a failing store: isError %v, %s", res.IsError, b)
	}

	if res := call(mcpserver.ToolEnhancedMemory, map[string]any{"operation": "store", "content": "handed on"}); res.IsError {
		t.Errorf("store through the other store: %+v", res.Content)
	}
	if n, err := sqlite.EntryCount(ctx); err != nil || n != 1 {
		t.Errorf("the store underneath holds %d entries, %v; want 1", n, err)
	}
}
