package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// TestExportedRulesOnRealPrometheus loads the rules the export writes with
// no config file into a real Prometheus scraping a real "pbatunnel serve":
// every recording rule yields a series for the server, so the names, labels
// and label values the rules read are those /metrics writes; and a burst of
// failing tool calls fires the error_rate alerts and the fast page of the
// error budget.
func TestExportedRulesOnRealPrometheus(t *testing.T) {
	clearEnv(t)
	bin := testenv.Require(t, "prometheus")
	mcpURL := startServe(t, "--interval", "1s")
	target := strings.TrimSuffix(strings.TrimPrefix(mcpURL, "http://"), "/mcp")

	dir := t.TempDir()
	exportRules(t, dir)
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [pbatunnel.rules.yml]
scrape_configs:
  - job_name: pbatunnel
    static_configs:
      - targets: [%q]
`, target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	prom := testenv.StartServer(t, bin, func(addr string) []string {
		return []string{
			"--config.file=" + filepath.Join(dir, "prometheus.yml"),
			"--storage.tsdb.path=" + filepath.Join(dir, "data-"+strings.ReplaceAll(addr, ":", "-")),
			"--web.listen-address=" + addr,
		}
	}, "/-/ready", 60*time.Second)

	ctx := t.Context()
	client := mcp.NewClient(&mcp.Implementation{Name: "rules-test", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: mcpURL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	call := func(ok bool) {
		t.Helper()
		args := map[string]any{"operation": "store", "content": "a note"}
		if !ok {
			args = map[string]any{"operation": "nope"}
		}
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "enhanced_memory", Arguments: args})
		if err != nil || res.IsError == ok {
			t.Fatalf("enhanced_memory %v: %v %+v", args, err, res)
		}
	}

	// A rate counts what a counter gains between scrapes, not the value
	// it is first seen with: one call of each outcome first, so that the
	// burst below lands on series Prometheus already has.
	call(true)
	call(false)
	waitProm(t, prom.URL, `count(mcp_server_operation_duration_seconds_count{job="pbatunnel", mcp_method_name="tools/call"})`,
		func(r []promResult) bool { return len(r) == 1 && r[0].Value[1] == "2" })
	for range 30 {
		call(false)
	}
	firing := func(alert string, labels ...string) string {
		return fmt.Sprintf(`ALERTS{alertname=%q, alertstate="firing", job="pbatunnel"%s}`, alert, strings.Join(labels, ""))
	}
	for _, q := range []string{
		firing("PbatunnelErrorRate", `, severity="warning"`),
		firing("PbatunnelErrorRate", `, severity="critical"`),
		firing("PbatunnelToolErrorBudgetBurn", `, severity="critical", long_window="1h"`),
	} {
		waitProm(t, prom.URL, q, func(r []promResult) bool { return len(r) == 1 })
	}

	rules, err := os.ReadFile(filepath.Join(dir, "pbatunnel.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	records := regexp.MustCompile(`(?m)^\s*- record: (\S+)$`).FindAllStringSubmatch(string(rules), -1)
	if len(records) != 45 {
		t.Fatalf("found %d recording rules in the file, want 45", len(records))
	}
	for _, r := range records {
		waitProm(t, prom.URL, r[1]+`{job="pbatunnel"}`, func(res []promResult) bool { return len(res) == 1 })
	}
}

// promResult is one element of a Prometheus instant query's result.
type promResult struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// waitProm runs query against Prometheus until done accepts its result,
// failing the test after waitLimit with the last result.
func waitProm(t *testing.T, base, query string, done func([]promResult) bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		res, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(query))
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Status string `json:"status"`
			Error  string `json:"error"`
			Data   struct {
				Result []promResult `json:"result"`
			} `json:"data"`
		}
		err = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if body.Status != "success" {
			t.Fatalf("%s: %s", query, body.Error)
		}
		if done(body.Data.Result) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus never gave the answer wanted for %s; the last was %+v", query, body.Data.Result)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
