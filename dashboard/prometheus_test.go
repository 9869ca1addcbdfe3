package dashboard

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// TestRealPrometheusScrapes has a real Prometheus scrape /metrics and
// answer PromQL queries: a tool's call count, and a median under 10 ms,
// which only the bounds below 10 ms can resolve.
func TestRealPrometheusScrapes(t *testing.T) {
	testenv.Require(t, "prometheus")
	m, base := startTest(t, Options{})
	for range 41 {
		m.RecordToolUsage("enhanced_memory", 2*time.Millisecond, true)
	}
	m.Sample(context.Background())
	// startTest recorded one enhanced_memory call already, of 23 ms: 42 in
	// all, the median among the 2 ms ones.

	prom := testenv.StartPrometheus(t, testenv.PrometheusOptions{Targets: []string{strings.TrimPrefix(base, "http://")}})

	// query returns the value of a query's single result, or -1 when it
	// has none (yet).
	query := func(q string) float64 {
		t.Helper()
		res, err := prom.Query(t.Context(), q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if len(res) != 1 {
			return -1
		}
		return res[0].Value
	}

	count := `sum(mcp_server_operation_duration_seconds_count{gen_ai_tool_name="enhanced_memory",mcp_method_name="tools/call"})`
	deadline := time.Now().Add(60 * time.Second)
	var last float64
	for last != 42 {
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus never answered 42 for %s; last answer %v", count, last)
		}
		time.Sleep(250 * time.Millisecond)
		last = query(count)
	}

	// The median lies in the bucket (0.001, 0.0025], which Prometheus
	// interpolates within; with 10 ms as the first bound it could only say
	// "somewhere below 10 ms".
	median := `histogram_quantile(0.5, sum by (le) (mcp_server_operation_duration_seconds_bucket{gen_ai_tool_name="enhanced_memory"}))`
	if v := query(median); v <= 0.001 || v > 0.0025 {
		t.Errorf("%s = %v, want a value in (0.001, 0.0025]", median, v)
	}
}
