package dashboard

import (
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// BenchmarkPrometheusHandler is one scrape of /metrics with 10 tools:
//
//	go test -run '^$' -bench PrometheusHandler -benchmem ./dashboard
func BenchmarkPrometheusHandler(b *testing.B) {
	m := monitor.New(monitor.Options{})
	for i := range 100 {
		for t := range 10 {
			m.RecordToolUsage("tool_"+strconv.Itoa(t), time.Duration(i)*time.Millisecond, i%13 != 0)
		}
	}
	m.Sample(b.Context())
	h, err := prometheusHandler(b.Context(), m, alert.New(m, alert.Options{}))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	}
}
