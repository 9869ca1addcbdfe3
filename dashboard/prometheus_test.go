package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// TestRealPrometheusScrapes has a real Prometheus scrape /metrics and
// answer PromQL queries: a tool's call count, and a median under 10 ms,
// which only the bounds below 10 ms can resolve.
func TestRealPrometheusScrapes(t *testing.T) {
	bin := testenv.Require(t, "prometheus")
	m, base := startTest(t, Options{})
	for range 41 {
		m.RecordToolUsage("enhanced_memory", 2*time.Millisecond, true)
	}
	m.Sample(context.Background())
	// startTest recorded one enhanced_memory call already, of 23 ms: 42 in
	// all, the median among the 2 ms ones.

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

	// query returns the value of a query's single result, or "" when it
	// has none (yet).
	query := func(q string) string {
		t.Helper()
		res, err := http.Get(prom.URL + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body struct {
			Status string `json:"status"`
			Error  string `json:"error"`
			Data   struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		if body.Status != "success" {
			t.Fatalf("%s: %s", q, body.Error)
		}
		if len(body.Data.Result) != 1 {
			return ""
		}
		return fmt.Sprint(body.Data.Result[0].Value[1])
	}

	count := `sum(mcp_server_operation_duration_seconds_count{gen_ai_tool_name="enhanced_memory",mcp_method_name="tools/call"})`
	deadline := time.Now().Add(60 * time.Second)
	var last string
	for last != "42" {
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus never answered 42 for %s; last answer %q", count, last)
		}
		time.Sleep(250 * time.Millisecond)
		last = query(count)
	}

	// The median lies in the bucket (0.001, 0.0025], which Prometheus
	// interpolates within; with 10 ms as the first bound it could only say
	// "somewhere below 10 ms".
	median := `histogram_quantile(0.5, sum by (le) (mcp_server_operation_duration_seconds_bucket{gen_ai_tool_name="enhanced_memory"}))`
	got := query(median)
	v, err := strconv.ParseFloat(got, 64)
	if err != nil || v <= 0.001 || v > 0.0025 {
		t.Errorf("%s = %q, want a value in (0.001, 0.0025]", median, got)
	}
}
