package report

import (
	"strconv"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// BenchmarkReport builds the report over a full 15-minute trend window of
// 1 s samples with 10 tools: the cost of one /api/metrics miss.
func BenchmarkReport(b *testing.B) {
	m, clock := newTestMonitor(monitor.Options{})
	for i := range 900 {
		for t := range 10 {
			m.RecordToolUsage("tool_"+strconv.Itoa(t), time.Duration(i%97)*time.Millisecond, i%13 != 0)
		}
		clock.Advance(time.Second)
		m.Sample(b.Context())
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = Latest(m)
	}
}
