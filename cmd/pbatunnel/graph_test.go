package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// graphStep is one knowledge-graph call of the compatibility script.
type graphStep struct {
	tool string
	args map[string]any
	// unordered: compare the entities and relations as sets; pbatunnel
	// orders search results by relevance, the reference by creation.
	unordered bool
}

func ents(es ...map[string]any) map[string]any {
	l := make([]any, len(es))
	for i, e := range es {
		l[i] = e
	}
	return map[string]any{"entities": l}
}

func entity(name, typ string, obs ...string) map[string]any {
	o := []any{}
	for _, s := range obs {
		o = append(o, s)
	}
	return map[string]any{"name": name, "entityType": typ, "observations": o}
}

func rels(rs ...[3]string) map[string]any {
	l := make([]any, len(rs))
	for i, r := range rs {
		l[i] = map[string]any{"from": r[0], "to": r[1], "relationType": r[2]}
	}
	return map[string]any{"relations": l}
}

// graphScript exercises every tool and the reference's rules: duplicates
// skipped, relations naming missing entities, a failing add_observations
// that changes nothing, deletions that cascade, case-insensitive
// substring search.
var graphScript = []graphStep{
	{tool: "create_entities", args: ents(
		entity("Ada Lovelace", "person", "wrote the first published program", "born in London"),
		entity("Analytical Engine", "machine", "designed by Charles Babbage"),
		entity("Charles Babbage", "person", "mathematician"),
	)},
	{tool: "create_entities", args: ents(entity("Ada Lovelace", "robot", "ignored"), entity("London", "city"))},
	{tool: "create_relations", args: rels(
		[3]string{"Ada Lovelace", "Analytical Engine", "programmed"},
		[3]string{"Charles Babbage", "Analytical Engine", "designed"},
		[3]string{"Ada Lovelace", "Charles Babbage", "corresponded_with"},
		[3]string{"Ada Lovelace", "Somerset", "lived_in"}, // no such entity
	)},
	{tool: "create_relations", args: rels([3]string{"Ada Lovelace", "Analytical Engine", "programmed"}, [3]string{"Charles Babbage", "London", "lived_in"})},
	{tool: "add_observations", args: map[string]any{"observations": []any{
		map[string]any{"entityName": "Ada Lovelace", "contents": []any{"born in London", "translated Menabrea's paper"}},
		map[string]any{"entityName": "London", "contents": []any{"capital of England"}},
	}}},
	{tool: "add_observations", args: map[string]any{"observations": []any{
		map[string]any{"entityName": "London", "contents": []any{"lost"}},
		map[string]any{"entityName": "Nobody", "contents": []any{"x"}},
	}}},
	{tool: "search_nodes", args: map[string]any{"query": "london"}, unordered: true},
	{tool: "search_nodes", args: map[string]any{"query": "BABBAGE"}, unordered: true},
	{tool: "search_nodes", args: map[string]any{"query": "ma"}, unordered: true},
	{tool: "search_nodes", args: map[string]any{"query": "engine designed"}, unordered: true},
	{tool: "search_nodes", args: map[string]any{"query": ""}, unordered: true},
	{tool: "open_nodes", args: map[string]any{"names": []any{"Charles Babbage", "Ada Lovelace", "Nobody"}}},
	{tool: "open_nodes", args: map[string]any{"names": []any{"Somerset"}}},
	{tool: "delete_observations", args: map[string]any{"deletions": []any{
		map[string]any{"entityName": "Ada Lovelace", "observations": []any{"born in London", "never said"}},
		map[string]any{"entityName": "Nobody", "observations": []any{"x"}},
	}}},
	{tool: "delete_relations", args: rels([3]string{"Charles Babbage", "London", "lived_in"}, [3]string{"London", "Nowhere", "none"})},
	{tool: "read_graph", args: map[string]any{}},
	{tool: "delete_entities", args: map[string]any{"entityNames": []any{"Charles Babbage", "Somerset", "Nobody"}}},
	{tool: "read_graph", args: map[string]any{}},
}

// graphResult is a call's outcome in a form both servers give alike.
type graphResult struct {
	IsError bool
	Result  map[string]any
}

// runGraphScript runs the script over cs and returns each outcome.
func runGraphScript(t *testing.T, cs *mcp.ClientSession) []graphResult {
	t.Helper()
	var out []graphResult
	for _, st := range graphScript {
		res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: st.tool, Arguments: st.args})
		if err != nil {
			t.Fatalf("%s: %v", st.tool, err)
		}
		r := graphResult{IsError: res.IsError}
		if res.IsError {
			var text strings.Builder
			for _, c := range res.Content {
				if tc, ok := c.(*mcp.TextContent); ok {
					text.WriteString(tc.Text)
				}
			}
			// The messages' wording differs; what matters is the cause.
			if st.tool == "add_observations" && !strings.Contains(text.String(), "Entity with name Nobody not found") {
				t.Errorf("%s: error %q does not name the missing entity", st.tool, text.String())
			}
		} else {
			b, _ := json.Marshal(res.StructuredContent)
			if err := json.Unmarshal(b, &r.Result); err != nil {
				t.Fatalf("%s: structured content %s: %v", st.tool, b, err)
			}
			// pbatunnel's additions to the reference's results.
			delete(r.Result, "deleted")
			delete(r.Result, "nextCursor")
			if st.unordered {
				sortGraph(r.Result)
			}
		}
		out = append(out, r)
	}
	return out
}

// sortGraph sorts a result's entities and relations by their JSON text.
func sortGraph(g map[string]any) {
	for _, k := range []string{"entities", "relations"} {
		l, _ := g[k].([]any)
		slices.SortFunc(l, func(a, b any) int {
			x, _ := json.Marshal(a)
			y, _ := json.Marshal(b)
			return bytes.Compare(x, y)
		})
	}
}

// TestGraphToolsMatchReferenceServer runs one script of knowledge-graph
// calls against @modelcontextprotocol/server-memory and against
// "pbatunnel serve --stdio", through the official Go SDK client, and
// requires the same results and the same graph; then the reference's own
// file and "pbatunnel memory export" must be the same bytes, and importing
// that file must give the same graph back.
func TestGraphToolsMatchReferenceServer(t *testing.T) {
	forEachStore(t, testGraphToolsMatchReferenceServer)
}

// forEachStore runs test once with the SQLite file in the data directory
// (where is ""), once with a PostgreSQL database (where is "--store URL").
// A newStore gives a further, empty store of the same kind.
func forEachStore(t *testing.T, test func(t *testing.T, newStore func() []string)) {
	t.Run("sqlite", func(t *testing.T) { test(t, func() []string { return nil }) })
	t.Run("postgres", func(t *testing.T) {
		pg := testenv.RequirePostgres(t)
		test(t, func() []string { return []string{"--store", pg.Database(t)} })
	})
}

func testGraphToolsMatchReferenceServer(t *testing.T, newStore func() []string) {
	node, script := memoryServer(t)
	dir := t.TempDir()
	refFile := filepath.Join(dir, "memory.jsonl")
	ref := exec.Command(node, script)
	ref.Env = append(os.Environ(), "MEMORY_FILE_PATH="+refFile)
	want := runGraphScript(t, connectCommand(t, ref))

	dataDir := filepath.Join(dir, "pbatunnel")
	store := newStore()
	ours := binaryCommand(t.Context(), t, nil, append([]string{"serve", "--stdio", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--log-format", "json"}, store...)...)
	cs := connectCommand(t, ours)
	got := runGraphScript(t, cs)
	for i := range graphScript {
		if i >= len(got) || i >= len(want) {
			break
		}
		if d := cmp.Diff(want[i], got[i]); d != "" {
			t.Errorf("step %d, %s %v (-reference +pbatunnel):\n%s", i+1, graphScript[i].tool, graphScript[i].args, d)
		}
	}

	refBytes, err := os.ReadFile(refFile)
	if err != nil {
		t.Fatal(err)
	}
	exported := runPbatunnel(t, append([]string{"memory", "export", "--data-dir", dataDir}, store...)...)
	// The reference ends its file without a newline.
	if d := cmp.Diff(string(refBytes)+"\n", exported); d != "" {
		t.Errorf("export differs from the reference's file (-reference +pbatunnel):\n%s", d)
	}

	// The reference's file, imported into an empty store, exports the same.
	fresh := append([]string{"--data-dir", filepath.Join(dir, "imported")}, newStore()...)
	out := runPbatunnel(t, append(append([]string{"memory", "import"}, fresh...), refFile)...)
	if !strings.Contains(out, "3 entities created, 0 merged, 4 observations added, 1 relations created") {
		t.Errorf("import said %q", out)
	}
	if again := runPbatunnel(t, append([]string{"memory", "export"}, fresh...)...); again != exported {
		t.Errorf("import then export (-want +got):\n%s", cmp.Diff(exported, again))
	}
}

// connectCommand starts cmd as an MCP server on its stdio and connects
// the Go SDK client to it for the test's duration.
func connectCommand(t *testing.T, cmd *exec.Cmd) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "graph-test", Version: "1"}, nil)
	cs, err := client.Connect(t.Context(), &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("connecting to %s: %v", cmd.Path, err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// runPbatunnel runs the binary to completion and returns its stdout.
func runPbatunnel(t *testing.T, args ...string) string {
	t.Helper()
	cmd := binaryCommand(t.Context(), t, nil, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("pbatunnel %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// TestGraphTwoServersLoseNothing runs two "pbatunnel serve --stdio" on one
// data directory, each with several clients' worth of concurrent calls
// adding observations to the same entity: every one must be there after.
//
// With PostgreSQL the two servers share the database as servers on two
// hosts would.
func TestGraphTwoServersLoseNothing(t *testing.T) {
	forEachStore(t, testGraphTwoServersLoseNothing)
}

func testGraphTwoServersLoseNothing(t *testing.T, newStore func() []string) {
	const (
		workers = 4
		each    = 25 // calls per worker
	)
	dataDir, store := t.TempDir(), newStore()
	var sessions []*mcp.ClientSession
	for range 2 {
		cmd := binaryCommand(t.Context(), t, nil, append([]string{"serve", "--stdio", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--log-format", "json"}, store...)...)
		sessions = append(sessions, connectCommand(t, cmd))
	}
	ctx := context.Background()
	call := func(cs *mcp.ClientSession, tool string, args map[string]any) error {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
		if err == nil && res.IsError {
			err = fmt.Errorf("%s: isError: %+v", tool, res.Content)
		}
		return err
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for p, cs := range sessions {
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					name := fmt.Sprintf("p%d-w%d-%d", p, w, i)
					if err := call(cs, "create_entities", ents(entity("shared", "test"), entity(name, "note"))); err != nil {
						errs <- err
						return
					}
					if err := call(cs, "add_observations", map[string]any{"observations": []any{
						map[string]any{"entityName": "shared", "contents": []any{name}},
					}}); err != nil {
						errs <- err
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	res, err := sessions[0].CallTool(ctx, &mcp.CallToolParams{Name: "open_nodes", Arguments: map[string]any{"names": []any{"shared"}}})
	if err != nil || res.IsError {
		t.Fatalf("open_nodes: %v %+v", err, res)
	}
	var g struct {
		Entities []struct{ Observations []string } `json:"entities"`
	}
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &g); err != nil || len(g.Entities) != 1 {
		t.Fatalf("open_nodes result %s: %v", b, err)
	}
	if n := len(g.Entities[0].Observations); n != 2*workers*each {
		t.Errorf("shared has %d observations; want %d: writes were lost", n, 2*workers*each)
	}
	res, err = sessions[1].CallTool(ctx, &mcp.CallToolParams{Name: "read_graph", Arguments: map[string]any{"namesOnly": true}})
	if err != nil || res.IsError {
		t.Fatalf("read_graph: %v %+v", err, res)
	}
	b, _ = json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &g); err != nil || len(g.Entities) != 2*workers*each+1 {
		t.Errorf("read_graph has %d entities; want %d", len(g.Entities), 2*workers*each+1)
	}
}
