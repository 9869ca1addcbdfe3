package notify

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// TestMain fails the package if a test leaves a goroutine behind: a Run
// loop that did not stop, a response body never closed, a child process
// never waited for.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// t0 has nanoseconds on purpose: timestamps must survive encoding whole.
var t0 = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC)

// The life of one alert: it fires as a warning, escalates to critical,
// then resolves.
func firingAlert() alert.Alert {
	return alert.Alert{
		Rule:       "memory_usage",
		Metric:     "system.memory_percent",
		Level:      alert.LevelWarning,
		Transition: alert.TransitionFiring,
		Value:      metric.Measured(83.456),
		Threshold:  80,
		Direction:  alert.Above,
		Message:    "memory usage 83.46% is above the warning threshold 80%",
		Advice:     "look at the largest caches first",
		StartsAt:   t0,
		At:         t0,
	}
}

func escalatedAlert() alert.Alert {
	a := firingAlert()
	a.Level, a.Previous, a.Transition = alert.LevelCritical, alert.LevelWarning, alert.TransitionEscalated
	a.Value, a.Threshold = metric.Measured(93.2), 90
	a.Message = "memory usage 93.20% is above the critical threshold 90%"
	a.At = t0.Add(time.Minute)
	return a
}

func resolvedAlert() alert.Alert {
	a := firingAlert()
	a.Level, a.Previous, a.Transition = alert.LevelInfo, alert.LevelCritical, alert.TransitionResolved
	a.Value, a.Threshold = metric.Measured(70), 76
	a.Message = "memory usage 70.00% is back below 76%"
	a.At = t0.Add(5 * time.Minute)
	a.EndsAt = a.At
	return a
}

// wantLabels is what Labels returns for the alert life above at severity sev.
func wantLabels(sev string) map[string]string {
	ls := map[string]string{
		"alertname": "memory_usage",
		"metric":    "system.memory_percent",
		"severity":  sev,
		"source":    "pbatunnel",
	}
	if h := hostname(); h != "" {
		ls["instance"] = h
	}
	return ls
}
