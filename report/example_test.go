package report_test

import (
	"context"
	"fmt"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/report"
)

// The guide's quick start: record tool usage, then read the report.
func ExampleLatest() {
	m := monitor.New(monitor.Options{DisableSystem: true})
	m.RecordToolUsage("enhanced_memory", 45*time.Millisecond, true)
	m.RecordToolUsage("code_analysis", 1200*time.Millisecond, false)
	m.Sample(context.Background()) // Start samples on a timer; here by hand

	r := report.Latest(m)
	em := r.ToolMetrics["enhanced_memory"]
	ca := r.ToolMetrics["code_analysis"]
	fmt.Printf("enhanced_memory: %d call, %.1f ms, %.0f%% success\n", em.CallCount, em.AverageResponseTime, em.SuccessRate)
	fmt.Printf("code_analysis: %d call, %d error\n", ca.CallCount, ca.ErrorCount)
	fmt.Println("cpu:", r.SystemOverview.Unavailable["cpu_usage_percent"])
	// Output:
	// enhanced_memory: 1 call, 45.0 ms, 100% success
	// code_analysis: 1 call, 1 error
	// cpu: system collection is disabled
}
