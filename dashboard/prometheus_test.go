package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// TestRealPrometheusScrapes has a real Prometheus scrape /metrics and
// answers a PromQL query for a tool's call count.
func TestRealPrometheusScrapes(t *testing.T) {
	bin := testenv.Require(t, "prometheus")
	m, base := startTest(t, Options{})
	for range 41 {
		m.RecordToolUsage("enhanced_memory", 2*time.Millisecond, true)
	}
	m.Sample(context.Background())
	// startTest recorded one enhanced_memory call already: 42 in all.

	dir := t.TempDir()
	target := strings.TrimPrefix(base, "http://")
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: pbatunnel\n    static_configs:\n      - targets: [%q]\n", target)
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
	promURL := prom.URL

	query := `sum(mcp_server_operation_duration_seconds_count{gen_ai_tool_name="enhanced_memory",mcp_method_name="tools/call"})`
	deadline := time.Now().Add(60 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		res, err := http.Get(promURL + "/api/v1/query?query=" + url.QueryEscape(query))
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Status string `json:"status"`
			Data   struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		err = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(body.Data.Result) == 1 {
			last = fmt.Sprint(body.Data.Result[0].Value[1])
			if last == "42" {
				return
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("Prometheus never answered 42 for %s; last answer %q", query, last)
}
