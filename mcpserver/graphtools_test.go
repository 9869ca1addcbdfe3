package mcpserver_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/mcpserver"
	"github.com/mcp-pba-tunnel/pbatunnel/memory"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// The knowledge-graph tools through a real client: results in the
// reference's shapes, errors as isError, every call measured.
func TestGraphTools(t *testing.T) {
	e := newEnv(t)
	steps := []struct {
		tool string
		args map[string]any
		want string // the structured result, as JSON
	}{
		{"create_entities", map[string]any{"entities": []any{
			map[string]any{"name": "Ada", "entityType": "person", "observations": []any{"wrote the first program"}},
			map[string]any{"name": "Engine", "entityType": "machine", "observations": []any{}},
		}}, `{"entities":[{"name":"Ada","entityType":"person","observations":["wrote the first program"]},{"name":"Engine","entityType":"machine","observations":[]}]}`},
		{"create_entities", map[string]any{"entities": []any{
			map[string]any{"name": "Ada", "entityType": "robot", "observations": []any{}},
		}}, `{"entities":[]}`},
		{"create_relations", map[string]any{"relations": []any{
			map[string]any{"from": "Ada", "to": "Engine", "relationType": "programmed"},
		}}, `{"relations":[{"from":"Ada","to":"Engine","relationType":"programmed"}]}`},
		{"add_observations", map[string]any{"observations": []any{
			map[string]any{"entityName": "Engine", "contents": []any{"designed by Babbage", "designed by Babbage"}},
		}}, `{"results":[{"entityName":"Engine","addedObservations":["designed by Babbage"]}]}`},
		{"search_nodes", map[string]any{"query": "BABBAGE"},
			`{"entities":[{"name":"Engine","entityType":"machine","observations":["designed by Babbage"]}],"relations":[{"from":"Ada","to":"Engine","relationType":"programmed"}]}`},
		{"open_nodes", map[string]any{"names": []any{"Ada", "Nobody"}, "namesOnly": true},
			`{"entities":[{"name":"Ada","entityType":"person"}],"relations":[{"from":"Ada","to":"Engine","relationType":"programmed"}]}`},
		{"read_graph", map[string]any{"limit": 1},
			`{"entities":[{"name":"Ada","entityType":"person","observations":["wrote the first program"]}],"relations":[{"from":"Ada","to":"Engine","relationType":"programmed"}],"nextCursor":"*"}`},
		{"delete_observations", map[string]any{"deletions": []any{
			map[string]any{"entityName": "Ada", "observations": []any{"wrote the first program"}},
		}}, `{"success":true,"message":"Observations deleted successfully","deleted":{"entities":0,"observations":1,"relations":0}}`},
		{"delete_relations", map[string]any{"relations": []any{
			map[string]any{"from": "Ada", "to": "Engine", "relationType": "programmed"},
		}}, `{"success":true,"message":"Relations deleted successfully","deleted":{"entities":0,"observations":0,"relations":1}}`},
		{"delete_entities", map[string]any{"entityNames": []any{"Engine"}},
			`{"success":true,"message":"Entities deleted successfully","deleted":{"entities":1,"observations":0,"relations":0}}`},
		{"read_graph", map[string]any{},
			`{"entities":[{"name":"Ada","entityType":"person","observations":[]}],"relations":[]}`},
	}
	for _, st := range steps {
		res := e.call(t, st.tool, st.args)
		if res.IsError {
			t.Fatalf("%s: %s", st.tool, text(res))
		}
		got := structured(t, res)
		if c, ok := got["nextCursor"].(string); ok && c != "" {
			got["nextCursor"] = "*"
		}
		var want map[string]any
		if err := json.Unmarshal([]byte(st.want), &want); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s %v (-want +got):\n%s", st.tool, st.args, d)
		}
	}

	// Errors are tool results the agent can read, and change nothing.
	for _, bad := range []struct {
		tool string
		args map[string]any
		msg  string
	}{
		{"add_observations", map[string]any{"observations": []any{map[string]any{"entityName": "Nobody", "contents": []any{"x"}}}}, "Entity with name Nobody not found"},
		{"create_entities", map[string]any{"entities": []any{map[string]any{"name": "", "entityType": "t"}}}, "entities[0].name: required"},
		{"search_nodes", map[string]any{"query": "a", "match": "regex"}, `invalid match "regex"`},
		{"search_nodes", map[string]any{"query": "Bab\x00bage"}, "invalid query: contains a NUL byte"},
		{"search_nodes", map[string]any{"query": "Bab\x00bage", "match": "words"}, "invalid query: contains a NUL byte"},
		{"read_graph", map[string]any{"cursor": "junk"}, "invalid cursor"},
	} {
		res := e.call(t, bad.tool, bad.args)
		if !res.IsError || !strings.Contains(text(res), bad.msg) {
			t.Errorf("%s %v: isError %v, %q; want an error saying %q", bad.tool, bad.args, res.IsError, text(res), bad.msg)
		}
	}

	e.m.Sample(context.Background())
	rep := e.m.Live(context.Background())
	for tool, want := range map[string]struct{ calls, errors int64 }{
		"create_entities": {3, 1}, "add_observations": {2, 1}, "read_graph": {3, 1}, "search_nodes": {4, 3}, "open_nodes": {1, 0},
	} {
		tm, ok := rep.Tools[tool]
		if !ok || int64(tm.Count) != want.calls || int64(tm.Errors) != want.errors {
			t.Errorf("monitor has %s: %+v; want %d calls, %d errors", tool, tm, want.calls, want.errors)
		}
	}
	if g := rep.Gauges[monitor.GaugeMemoryEntries]; !g.OK || g.Value != 1 {
		t.Errorf("%s = %+v; want the one entity left", monitor.GaugeMemoryEntries, g)
	}
}

// The graph is a resource too; a subscriber hears of each change.
func TestGraphResource(t *testing.T) {
	ctx := context.Background()
	m := monitor.New(monitor.Options{DisableSystem: true})
	store, err := memory.Open(ctx, memory.Options{Path: filepath.Join(t.TempDir(), "memory.db"), Monitor: m})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	srv := mcpserver.New(mcpserver.Options{Monitor: m, Memory: store})
	st, ct := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	updated := make(chan string, 8)
	client := mcp.NewClient(&mcp.Implementation{Name: "sub", Version: "1"}, &mcp.ClientOptions{
		ResourceUpdatedHandler: func(_ context.Context, req *mcp.ResourceUpdatedNotificationRequest) {
			updated <- req.Params.URI
		},
	})
	cs, err := client.Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cs.Close(); ss.Wait() }()

	if err := cs.Subscribe(ctx, &mcp.SubscribeParams{URI: mcpserver.GraphResourceURI}); err != nil {
		t.Fatal(err)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "create_entities", Arguments: map[string]any{
		"entities": []any{map[string]any{"name": "Ada", "entityType": "person", "observations": []any{}}},
	}})
	if err != nil || res.IsError {
		t.Fatalf("create_entities: %v %+v", err, res)
	}
	select {
	case uri := <-updated:
		if uri != mcpserver.GraphResourceURI {
			t.Errorf("update of %q", uri)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no resources/updated notification after create_entities")
	}
	rr, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: mcpserver.GraphResourceURI})
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Contents) != 1 || rr.Contents[0].Text != `{"entities":[{"name":"Ada","entityType":"person","observations":[]}],"relations":[]}` {
		t.Errorf("resource contents %+v", rr.Contents)
	}
}
