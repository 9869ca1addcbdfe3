package monitor

import (
	"context"
	"sync"
	"time"
)

// The guide's package-level API works against one process-wide monitor,
// created with default options on first use.
var (
	defaultOnce sync.Once
	defaultMon  *Monitor
)

// Default returns the process-wide monitor (the guide's
// get_performance_monitor).
func Default() *Monitor {
	defaultOnce.Do(func() { defaultMon = New(Options{}) })
	return defaultMon
}

// Start starts the default monitor sampling every interval (the guide's
// start_monitoring). See Monitor.Start.
func Start(ctx context.Context, interval time.Duration) error {
	return Default().Start(ctx, interval)
}

// RecordToolUsage records a tool call on the default monitor (the guide's
// record_tool_usage). See Monitor.RecordToolUsage.
func RecordToolUsage(name string, d time.Duration, ok bool) {
	Default().RecordToolUsage(name, d, ok)
}

// TrackCustomMetric sets a custom gauge on the default monitor (the guide's
// track_custom_metric).
func TrackCustomMetric(name string, value float64) {
	Default().TrackCustomMetric(name, value)
}
