package mcpserver_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/codeanalysis"
	"github.com/mcp-pba-tunnel/pbatunnel/mcpserver"
	"github.com/mcp-pba-tunnel/pbatunnel/memory"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// env is a server with every tool, connected to an SDK client over
// in-memory transports.
type env struct {
	m      *monitor.Monitor
	client *mcp.ClientSession
	root   string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	m := monitor.New(monitor.Options{DisableSystem: true})
	path := filepath.Join(t.TempDir(), "memory.db")
	store, err := memory.Open(ctx, memory.Options{Path: path, Monitor: m})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	// The store's counts are the monitor's gauges, as serve makes them.
	for name, count := range map[string]func(context.Context) (int64, error){
		monitor.GaugeMemoryEntries: store.EntryCount,
		monitor.GaugeRelationships: store.RelationshipCount,
	} {
		if err := m.RegisterGauge(name, memory.Gauge(path, count)); err != nil {
			t.Fatal(err)
		}
	}
	root := t.TempDir()
	an, err := codeanalysis.New(codeanalysis.Options{Roots: []string{root}})
	if err != nil {
		t.Fatal(err)
	}
	srv := mcpserver.New(mcpserver.Options{Monitor: m, Memory: store, Analyzer: an, Version: "test"})
	st, ct := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1"}, nil)
	cs, err := client.Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close(); ss.Wait() })
	return &env{m: m, client: cs, root: root}
}

// call calls a tool and returns its result, failing on protocol errors.
func (e *env) call(t *testing.T, tool string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	res, err := e.client.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s %v: protocol error %v", tool, args, err)
	}
	return res
}

func text(r *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range r.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func structured(t *testing.T, r *mcp.CallToolResult) map[string]any {
	t.Helper()
	b, err := json.Marshal(r.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("structured content %s: %v", b, err)
	}
	return out
}

func TestToolsListed(t *testing.T) {
	e := newEnv(t)
	res, err := e.client.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
		if tool.Description == "" || tool.InputSchema == nil {
			t.Errorf("tool %s lacks a description or schema", tool.Name)
		}
	}
	want := "add_observations,code_analysis,create_entities,create_relations,delete_entities,delete_observations," +
		"delete_relations,enhanced_memory,open_nodes,performance_report,read_graph,search_nodes"
	if got := strings.Join(names, ","); got != want {
		t.Errorf("tools %s", got)
	}
}

func TestMemoryOperations(t *testing.T) {
	e := newEnv(t)
	store := func(content string, extra map[string]any) string {
		args := map[string]any{"operation": "store", "content": content, "conversation_id": "c1"}
		for k, v := range extra {
			args[k] = v
		}
		r := e.call(t, "enhanced_memory", args)
		if r.IsError {
			t.Fatalf("store: %s", text(r))
		}
		return structured(t, r)["entry"].(map[string]any)["id"].(string)
	}
	a := store("the deploy key rotates every Monday", map[string]any{"importance": 0.9, "tags": []string{"ops"}})
	b := store("Monday standups moved to 10am", nil)
	store("unrelated note about lunch", map[string]any{"conversation_id": "c2"})

	steps := []struct {
		name string
		args map[string]any
		want string // in the structured JSON
	}{
		{"retrieve by id", map[string]any{"operation": "retrieve", "id": a}, `"importance":0.9`},
		{"retrieve by conversation", map[string]any{"operation": "retrieve", "conversation_id": "c1"}, "standups"},
		{"search", map[string]any{"operation": "search", "query": "monday deploy"}, "**"},
		{"search hostile query", map[string]any{"operation": "search", "query": `C++ "quoted AND OR (`}, `"hits":[`},
		{"relate", map[string]any{"operation": "relate", "source_id": a, "target_id": b, "relation_type": "mentions", "strength": 0.5}, `"type":"mentions"`},
		{"context", map[string]any{"operation": "context", "id": a, "depth": 2}, "standups"},
		{"update", map[string]any{"operation": "update", "id": b, "importance": 0.2, "tags": []string{"meetings"}}, `"meetings"`},
		{"stats", map[string]any{"operation": "stats"}, `"entries":3`},
		{"delete", map[string]any{"operation": "delete", "id": b}, `"deleted":1`},
		{"clear", map[string]any{"operation": "clear", "conversation_id": "c2", "confirm": true}, `"deleted":1`},
	}
	for _, s := range steps {
		r := e.call(t, "enhanced_memory", s.args)
		b, _ := json.Marshal(r.StructuredContent)
		if r.IsError || !strings.Contains(string(b), s.want) {
			t.Errorf("%s: isError=%v %s\n%.400s", s.name, r.IsError, text(r), b)
		}
	}
}

func TestMemoryBadArguments(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		args map[string]any
		want string // in the error text
	}{
		{"no operation", map[string]any{}, "operation"},
		{"unknown operation", map[string]any{"operation": "forget"}, "use one of store, retrieve"},
		{"field not for operation", map[string]any{"operation": "store", "content": "x", "query": "y"}, "does not take query"},
		{"store without content", map[string]any{"operation": "store"}, "content"},
		{"importance out of range", map[string]any{"operation": "store", "content": "x", "importance": 1.5}, "importance"},
		{"negative ttl", map[string]any{"operation": "store", "content": "x", "ttl_seconds": -1}, "ttl_seconds must be positive"},
		{"retrieve missing id", map[string]any{"operation": "retrieve", "id": "mem_nope"}, "not found"},
		{"bad since", map[string]any{"operation": "retrieve", "since": "yesterday"}, "RFC 3339"},
		{"bad cursor", map[string]any{"operation": "retrieve", "cursor": "garbage"}, "cursor"},
		{"empty search", map[string]any{"operation": "search"}, "text"},
		{"relate missing ends", map[string]any{"operation": "relate", "source_id": "mem_a", "target_id": "mem_b", "relation_type": "x"}, "not found"},
		{"context depth", map[string]any{"operation": "context", "id": "mem_a", "depth": 99}, "depth"},
		{"update nothing", map[string]any{"operation": "update", "id": "mem_a"}, ""},
		{"delete missing", map[string]any{"operation": "delete", "id": "mem_nope"}, "not found"},
		{"clear without confirm", map[string]any{"operation": "clear", "conversation_id": "c1"}, "confirm: true"},
		{"clear without conversation", map[string]any{"operation": "clear", "confirm": true}, "conversation_id"},
		{"wrong type", map[string]any{"operation": "store", "content": 42}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.call(t, "enhanced_memory", tt.args)
			if !r.IsError {
				t.Fatalf("not an error: %s", text(r))
			}
			if !strings.Contains(strings.ToLower(text(r)), strings.ToLower(tt.want)) {
				t.Errorf("error %q lacks %q", text(r), tt.want)
			}
		})
	}
}

func TestCodeAnalysisTool(t *testing.T) {
	e := newEnv(t)
	src := "package p\n\nimport \"crypto/md5\"\n\nfunc F(a, b int) int {\n\tif a > b && b > 0 {\n\t\treturn a\n\t}\n\t_ = md5.New()\n\treturn b\n}\n"
	if err := os.WriteFile(filepath.Join(e.root, "p.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.call(t, "code_analysis", map[string]any{"path": "p.go", "analysis_type": "complexity"})
	if r.IsError || !strings.Contains(mustJSON(t, r.StructuredContent), `"cyclomatic":3`) {
		t.Errorf("complexity: %s %s", text(r), mustJSON(t, r.StructuredContent))
	}
	r = e.call(t, "code_analysis", map[string]any{"path": "p.go", "analysis_type": "security"})
	if r.IsError || !strings.Contains(mustJSON(t, r.StructuredContent), "md5") {
		t.Errorf("security: %s", mustJSON(t, r.StructuredContent))
	}
	for _, bad := range []map[string]any{
		{"path": "../../etc/passwd", "analysis_type": "security"},
		{"path": "/etc/passwd", "analysis_type": "security"},
		{"path": "p.go", "analysis_type": "vibes"},
		{"path": "nope.go", "analysis_type": "patterns"},
	} {
		if r := e.call(t, "code_analysis", bad); !r.IsError || text(r) == "" {
			t.Errorf("%v: want a clear isError result, got %v %q", bad, r.IsError, text(r))
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPerformanceReportAndMetrics(t *testing.T) {
	e := newEnv(t)
	e.call(t, "enhanced_memory", map[string]any{"operation": "store", "content": "x"})
	e.call(t, "enhanced_memory", map[string]any{"operation": "forget"}) // isError
	if _, err := e.client.CallTool(context.Background(), &mcp.CallToolParams{Name: "no_such_tool"}); err == nil {
		t.Error("unknown tool: no protocol error")
	}
	s := e.m.Sample(context.Background())
	mem := s.Tools["enhanced_memory"]
	if mem.Count != 2 || mem.Errors != 1 || mem.ErrorTypes[monitor.ErrorTypeTool] != 1 || mem.Max <= 0 {
		t.Errorf("enhanced_memory metrics %+v", mem.LatencySummary)
	}
	if _, ok := s.Tools["no_such_tool"]; ok {
		t.Error("a call to an unknown tool invented a tool")
	}
	if tc := s.Methods["tools/call"]; tc.Count != 3 || tc.ErrorTypes["-32602"] != 1 {
		t.Errorf("tools/call method metrics %+v", tc)
	}
	// The handshake is recorded as its method (initialize, or
	// server/discover in newer protocol versions).
	if s.Methods["initialize"].Count+s.Methods["server/discover"].Count == 0 {
		t.Errorf("handshake not recorded: %v", keys(s.Methods))
	}
	if g := s.Gauge(monitor.GaugeActiveConnections); !g.OK || g.Value != 1 {
		t.Errorf("active_connections %v", g)
	}
	if g := s.Gauge(monitor.GaugeMemoryEntries); !g.OK || g.Value != 1 {
		t.Errorf("memory_entries_count %v", g)
	}
	if s.Queries.Count == 0 {
		t.Error("no store query was timed")
	}

	for _, tt := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{}, `"tool_metrics"`},
		{map[string]any{"section": "tools"}, `"enhanced_memory"`},
		{map[string]any{"section": "health"}, `"status"`},
		{map[string]any{"section": "methods"}, `"tools/call"`},
	} {
		r := e.call(t, "performance_report", tt.args)
		if r.IsError || !strings.Contains(mustJSON(t, r.StructuredContent), tt.want) {
			t.Errorf("%v: %s", tt.args, text(r))
		}
	}
	r := e.call(t, "performance_report", map[string]any{"format": "text"})
	if r.IsError || !strings.Contains(text(r), "pbatunnel performance report") {
		t.Errorf("text report: %s", text(r))
	}
	for _, bad := range []map[string]any{{"section": "nope"}, {"format": "xml"}, {"section": "tools", "format": "text"}} {
		if r := e.call(t, "performance_report", bad); !r.IsError {
			t.Errorf("%v accepted", bad)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
