package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// optionalSeries are the metrics a panel target may find absent, and why:
// they exist only where the host has them. Every other target must return
// data.
var optionalSeries = map[string]string{
	"pbatunnel_container_cpu_quota_cores":      "exported only when the cgroup has a CPU quota",
	"pbatunnel_container_memory_usage_percent": "exported only when the cgroup has a memory limit",
}

// rulesFile is the Prometheus rules file deploy/prometheus holds, with the
// recording rules (pbatunnel:…) some panels may query.
var rulesFile = filepath.Join("..", "..", "deploy", "prometheus", "pbatunnel.rules.yml")

// quoted matches PromQL's string literals; recordingRule a metric name
// with a colon, which only recording rules have, outside a string or as
// the value of a __name__ matcher.
var (
	quoted        = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	recordingRule = regexp.MustCompile(`[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_:]+`)
	nameMatcher   = regexp.MustCompile(`__name__\s*=~?\s*"[^"]*:`)
	alertsSeries  = regexp.MustCompile(`\bALERTS\b`)
)

// needsRules reports whether expr reads what only Prometheus rules make: a
// recording rule's series, or the ALERTS series of alerting rules.
func needsRules(expr string) bool {
	bare := quoted.ReplaceAllString(expr, `""`)
	return recordingRule.MatchString(bare) || nameMatcher.MatchString(expr) || alertsSeries.MatchString(bare)
}

// loadTools are the tools the load calls, through both instances.
var loadTools = []string{"enhanced_memory", "code_analysis", "performance_report", "create_entities", "open_nodes", "search_nodes", "read_graph"}

// TestGrafanaDashboardQueries runs every query of the Grafana dashboard
// against a real Prometheus scraping two live pbatunnel instances, a serve
// and a proxy in front of it, both behind a token as deploy/compose.yaml
// runs them, while MCP clients call several tools through both, some
// calls failing. Every query must be valid, and every one must return a
// finite value but those of optionalSeries (and of recording rules when
// deploy/prometheus has none yet). The variables must offer what was
// called; a selection of one instance and two tools must narrow every
// answer to them.
func TestGrafanaDashboardQueries(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Prometheus and two pbatunnel processes for a minute; skipped with -short")
	}
	testenv.Require(t, "prometheus")
	d, _ := loadDashboard(t)
	const token = "grafana-test-token"

	serveMCP := startServeEnv(t, []string{"PBATUNNEL_AUTH_TOKEN=" + token}, "--interval", "1s")
	serveAddr := strings.TrimSuffix(strings.TrimPrefix(serveMCP, "http://"), "/mcp")
	proxyMCP, proxyAddr := startHTTPProxy(t, token, serveMCP)

	// Prometheus scrapes itself too, as a Prometheus shared with other
	// services scrapes them: its up, process_* and go_* series must stay
	// out of every panel.
	opts := testenv.PrometheusOptions{Job: "pbatunnel", Targets: []string{serveAddr, proxyAddr}, Token: token, SelfJob: "prometheus"}
	_, err := os.Stat(rulesFile)
	haveRules := err == nil
	if haveRules {
		abs, err := filepath.Abs(rulesFile)
		if err != nil {
			t.Fatal(err)
		}
		opts.RuleFiles = []string{abs}
	}
	prom := testenv.StartPrometheus(t, opts)
	started := time.Now()
	startLoad(t, token, serveMCP, proxyMCP)

	// Grafana's own variables with a scrape interval of 1 s:
	// $__rate_interval is at least four of them.
	builtins := map[string]string{"__rate_interval": "4s", "__interval": "1s"}
	var all map[string]string
	type query struct{ panel, ref, expr, optional string }
	var queries []query
	for _, p := range d.allPanels() {
		for _, tg := range p.Targets {
			q := query{panel: p.Title, ref: tg.RefID, expr: tg.Expr}
			for metric, why := range optionalSeries {
				if strings.Contains(tg.Expr, metric) {
					q.optional = why
				}
			}
			if !haveRules && needsRules(tg.Expr) {
				q.optional = "made by the rules of deploy/prometheus/pbatunnel.rules.yml, which is not there"
			}
			queries = append(queries, q)
		}
	}
	if len(queries) < 20 {
		t.Fatalf("the dashboard has %d queries; did it lose its panels?", len(queries))
	}

	// Poll until every query that must return data does; an invalid query
	// fails at once.
	finite := func(s testenv.PromSample) bool { return !math.IsNaN(s.Value) && !math.IsInf(s.Value, 0) }
	var empty, optional []string
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(time.Second) {
		builtins["__range"] = fmt.Sprintf("%ds", int(time.Since(started).Seconds())+1)
		all = allSelected(t, prom, d, builtins)
		empty, optional = empty[:0], optional[:0]
		for _, q := range queries {
			expr, err := substitute(q.expr, all)
			if err != nil {
				t.Fatalf("panel %q target %s: %v", q.panel, q.ref, err)
			}
			res, err := prom.Query(t.Context(), expr)
			if err != nil {
				t.Fatalf("panel %q target %s: %v\nquery: %s", q.panel, q.ref, err, expr)
			}
			switch {
			case slices.ContainsFunc(res, finite):
			case q.optional != "":
				optional = append(optional, fmt.Sprintf("panel %q target %s (%s)", q.panel, q.ref, q.optional))
			default:
				empty = append(empty, fmt.Sprintf("panel %q target %s: %s\n  answer: %v", q.panel, q.ref, expr, res))
			}
		}
		if len(empty) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d queries still have no finite value after %v:\n%s", len(empty), time.Since(started).Round(time.Second), strings.Join(empty, "\n"))
		}
	}
	t.Logf("%d queries valid, %d with data, after %v; allowed to be empty and empty:\n%s",
		len(queries), len(queries)-len(optional), time.Since(started).Round(time.Second), strings.Join(optional, "\n"))

	checkVariables(t, prom, d, all, []string{serveAddr, proxyAddr})

	// With All selected, every answer is about pbatunnel's targets, never
	// another job's: Prometheus' own up and process figures are there to
	// be picked.
	if res, err := prom.Query(t.Context(), `up{job="prometheus"} == 1`); err != nil || len(res) != 1 {
		t.Fatalf("Prometheus' own target: %v, %v; want it up", res, err)
	}
	for _, q := range queries {
		expr, err := substitute(q.expr, all)
		if err != nil {
			t.Fatal(err)
		}
		res, err := prom.Query(t.Context(), expr)
		if err != nil {
			t.Fatalf("panel %q target %s: %v\nquery: %s", q.panel, q.ref, err, expr)
		}
		for _, s := range res {
			if job, ok := s.Labels["job"]; ok && job != "pbatunnel" {
				t.Errorf("panel %q target %s with All selected: a series of job %s, which is not pbatunnel: %v\nquery: %s", q.panel, q.ref, job, s.Labels, expr)
			}
			if inst, ok := s.Labels["instance"]; ok && inst != serveAddr && inst != proxyAddr {
				t.Errorf("panel %q target %s with All selected: a series of %s, which is not a pbatunnel target\nquery: %s", q.panel, q.ref, inst, expr)
			}
		}
	}

	// One instance and two tools selected: every answer is about them.
	picked := []string{"code_analysis", "enhanced_memory"}
	one := map[string]string{"job": regexValue("pbatunnel"), "instance": regexValue(serveAddr), "tool": regexValue(picked...),
		"__rate_interval": all["__rate_interval"], "__interval": all["__interval"], "__range": all["__range"]}
	seen := map[string]bool{}
	for _, q := range queries {
		expr, err := substitute(q.expr, one)
		if err != nil {
			t.Fatal(err)
		}
		res, err := prom.Query(t.Context(), expr)
		if err != nil {
			t.Fatalf("panel %q target %s, one instance: %v\nquery: %s", q.panel, q.ref, err, expr)
		}
		for _, s := range res {
			if inst, ok := s.Labels["instance"]; ok && inst != serveAddr {
				t.Errorf("panel %q target %s with instance %s selected: a series of %s", q.panel, q.ref, serveAddr, inst)
			}
			if tool, ok := s.Labels["gen_ai_tool_name"]; ok {
				seen[tool] = true
				if !slices.Contains(picked, tool) {
					t.Errorf("panel %q target %s with tools %v selected: a series of %s", q.panel, q.ref, picked, tool)
				}
			}
		}
	}
	if len(seen) != len(picked) {
		t.Errorf("the panels by tool showed %v with %v selected", seen, picked)
	}
}

// allSelected returns the values Grafana gives the dashboard's variables
// with All selected in each: a variable's allValue when it has one, else
// every value its query offers (with All in the variables before it) as
// one group of alternatives; and the built-in variables as given.
func allSelected(t *testing.T, prom *testenv.Prometheus, d grafanaDashboard, builtins map[string]string) map[string]string {
	t.Helper()
	vals := maps.Clone(builtins)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		if v.AllValue != "" {
			vals[v.Name] = v.AllValue
			continue
		}
		m := labelValuesQuery.FindStringSubmatch(v.Definition)
		if m == nil {
			t.Fatalf("variable %s: %q is not label_values(selector, label)", v.Name, v.Definition)
		}
		selector, err := substitute(m[1], vals)
		if err != nil {
			t.Fatalf("variable %s: %v", v.Name, err)
		}
		offered, err := prom.LabelValues(t.Context(), m[2], selector)
		if err != nil {
			t.Fatalf("variable %s: %v", v.Name, err)
		}
		vals[v.Name] = regexValue(offered...)
	}
	return vals
}

// checkVariables runs each query variable as Grafana would, with All
// selected in the others, and checks it offers what the test made.
func checkVariables(t *testing.T, prom *testenv.Prometheus, d grafanaDashboard, vals map[string]string, instances []string) {
	t.Helper()
	want := map[string][]string{"job": {"pbatunnel"}, "instance": instances, "tool": loadTools}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		m := labelValuesQuery.FindStringSubmatch(v.Definition)
		if m == nil {
			t.Errorf("variable %s: %q is not label_values(selector, label)", v.Name, v.Definition)
			continue
		}
		selector, err := substitute(m[1], vals)
		if err != nil {
			t.Fatalf("variable %s: %v", v.Name, err)
		}
		got, err := prom.LabelValues(t.Context(), m[2], selector)
		if err != nil {
			t.Fatalf("variable %s: %v", v.Name, err)
		}
		for _, w := range want[v.Name] {
			if !slices.Contains(got, w) {
				t.Errorf("variable %s offers %q, want %q among them", v.Name, got, w)
			}
		}
	}
}

// startHTTPProxy runs "pbatunnel proxy" over Streamable HTTP in front of
// upstream, with token on its listener, its dashboard and the upstream,
// and returns its MCP endpoint and its dashboard's address.
func startHTTPProxy(t *testing.T, token, upstream string) (mcpURL, dashAddr string) {
	t.Helper()
	listen := testenv.Addr(testenv.FreePort(t))
	cmd := binaryCommand(t.Context(), t, []string{"PBATUNNEL_AUTH_TOKEN=" + token, "UPSTREAM_TOKEN=" + token},
		"proxy", "--upstream", upstream, "--header", "Authorization: Bearer ${UPSTREAM_TOKEN}",
		"--listen", listen, "--addr", "127.0.0.1:0", "--interval", "1s", "--data-dir", t.TempDir(), "--log-format", "json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() })
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	lines := readLines(t, stderr, done)
	deadline := time.After(waitLimit)
	var dash string
	for dash == "" || mcpURL == "" {
		l := next(t, lines, deadline, "the proxy's start and listening lines", func(l logLine) bool {
			return l.msg() == "starting proxy" || l.msg() == "proxying MCP over HTTP"
		})
		if s, ok := l["dashboard"].(string); ok {
			dash = s
		}
		if s, ok := l["listen"].(string); ok {
			mcpURL = s + "/mcp"
		}
	}
	go func() { // keep draining the log so the proxy never blocks on it
		for range lines {
		}
	}()
	return mcpURL, strings.TrimPrefix(dash, "http://")
}

// startLoad has one MCP client per endpoint call tools in rounds, two calls
// in seven failing with a tool error, until the test ends.
func startLoad(t *testing.T, token string, endpoints ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var (
		wg       sync.WaitGroup
		sessions []*mcp.ClientSession
	)
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		for _, cs := range sessions {
			_ = cs.Close()
		}
	})
	for i, endpoint := range endpoints {
		cs, err := mcp.NewClient(&mcp.Implementation{Name: fmt.Sprintf("grafana-load-%d", i), Version: "1"}, nil).
			Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: &http.Client{Transport: bearer{token: token}}}, nil)
		if err != nil {
			t.Fatalf("connecting to %s: %v", endpoint, err)
		}
		sessions = append(sessions, cs)
		// The proxy learns the upstream's tools from a tools/list.
		if _, err := cs.ListTools(ctx, nil); err != nil {
			t.Fatal(err)
		}
		call := func(tool string, args map[string]any, wantError bool) error {
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
			switch {
			case err != nil:
				return err
			case res.IsError != wantError:
				return fmt.Errorf("%s %v: isError %v, want %v: %+v", tool, args, res.IsError, wantError, res.Content)
			}
			return nil
		}
		entity := fmt.Sprintf("dashboard-%d", i)
		err = call("create_entities", map[string]any{"entities": []any{map[string]any{"name": entity, "entityType": "test", "observations": []any{"seen"}}}}, false)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				err := errors.Join(
					call("enhanced_memory", map[string]any{"operation": "store", "content": fmt.Sprintf("note %d", n)}, false),
					call("open_nodes", map[string]any{"names": []any{entity}}, false), // a cache lookup
					call("search_nodes", map[string]any{"query": "seen"}, false),
					call("performance_report", map[string]any{"section": "tools"}, false),
					call("code_analysis", map[string]any{"path": "nowhere.go"}, true), // no analysis_type
					call("enhanced_memory", map[string]any{"operation": "nope"}, true),
					call("read_graph", map[string]any{"namesOnly": true}, false),
				)
				if ctx.Err() != nil {
					return
				}
				if err != nil {
					t.Errorf("load through %s: %v", endpoint, err)
					return
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		}()
	}
}
