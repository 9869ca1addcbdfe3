package monitor_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// The guide's quick start: record tool usage, take a sample, read it.
// Package report turns a sample into the guide's report.
func ExampleMonitor_Sample() {
	m := monitor.New(monitor.Options{DisableSystem: true})
	m.RecordToolUsage("enhanced_memory", 45*time.Millisecond, true)
	m.RecordToolUsage("code_analysis", 1200*time.Millisecond, false)
	s := m.Sample(context.Background()) // Start samples on a timer; here by hand

	em, ca := s.Tools["enhanced_memory"], s.Tools["code_analysis"]
	avg, _ := em.Average()
	fmt.Printf("enhanced_memory: %d call, %v, %.0f%% success\n", em.Count, avg, em.SuccessRate())
	fmt.Printf("code_analysis: %d call, %d error\n", ca.Count, ca.Errors)
	fmt.Println("cpu:", s.CPUPercent())
	// Output:
	// enhanced_memory: 1 call, 45ms, 100% success
	// code_analysis: 1 call, 1 error
	// cpu: n/a (system collection is disabled)
}

// An application gauge is read on every sample; when it fails, the report
// shows the error, not a zero.
func ExampleMonitor_RegisterGauge() {
	m := monitor.New(monitor.Options{DisableSystem: true})
	_ = m.RegisterGauge(monitor.GaugeMemoryEntries, func() (float64, error) { return 1250, nil })
	_ = m.RegisterGauge(monitor.GaugeRelationships, func() (float64, error) {
		return 0, errors.New("store closed")
	})
	s := m.Sample(context.Background())
	fmt.Println(s.Gauge(monitor.GaugeMemoryEntries))
	fmt.Println(s.Gauge(monitor.GaugeRelationships))
	fmt.Println(s.Gauge(monitor.GaugeActiveConnections))
	// Output:
	// 1250.00
	// n/a (store closed)
	// n/a (no source registered for active_connections)
}

// Custom metrics: counters, gauges and timers by name.
func ExampleMonitor_Counter() {
	m := monitor.New(monitor.Options{DisableSystem: true})
	indexed := m.Counter("documents_indexed") // keep the handle: it is lock-free
	indexed.Add(3)
	m.TrackCustomMetric("queue_depth", 7)
	m.Timer("embedding").Observe(20*time.Millisecond, true)
	s := m.Sample(context.Background())
	fmt.Println(s.Custom.Counters["documents_indexed"], s.Custom.Gauges["queue_depth"], s.Custom.Timers["embedding"].Count)
	// Output: 3 7 1
}
