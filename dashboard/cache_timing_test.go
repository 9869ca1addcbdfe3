package dashboard

import (
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/report"
)

// BenchmarkMetricsText is one GET /api/metrics?format=text with 10 tools
// and 900 samples of history: served from the report cache, and rebuilt
// for the request as it was before the text came from the cache.
//
//	flock /tmp/bench.lock go test -run '^$' -bench MetricsText -benchmem ./dashboard
func BenchmarkMetricsText(b *testing.B) {
	m := monitor.New(monitor.Options{DisableSystem: true})
	for i := range 900 {
		for t := range 10 {
			m.RecordToolUsage("tool_"+strconv.Itoa(t), time.Duration(i%97)*time.Millisecond, i%13 != 0)
		}
		m.Sample(b.Context())
	}
	a := &api{m: m, report: &reportCache{m: m}}
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			a.metrics(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/metrics?format=text", nil))
		}
	})
	b.Run("rebuilt", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			w := httptest.NewRecorder()
			_ = report.Latest(m).WriteText(w)
		}
	})
}
