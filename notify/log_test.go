package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

func TestLogHandler(t *testing.T) {
	unavailable := firingAlert()
	unavailable.Level, unavailable.Value, unavailable.Advice = alert.LevelInfo, metric.Unavailable("cgroup unreadable"), ""
	synthetic := firingAlert()
	synthetic.Level, synthetic.Synthetic, synthetic.Message = alert.LevelCritical, true, ""

	const starts = "2026-03-14T15:09:26.535897932Z"
	tests := []struct {
		name string
		a    alert.Alert
		want map[string]any
	}{
		{"warning", firingAlert(), map[string]any{
			"level": "WARN", "msg": firingAlert().Message,
			"rule": "memory_usage", "metric": "system.memory_percent", "severity": "warning",
			"transition": "firing", "value": 83.456, "threshold": 80.0, "direction": "above",
			"advice": "look at the largest caches first", "starts_at": starts,
		}},
		{"critical", escalatedAlert(), map[string]any{
			"level": "ERROR", "msg": escalatedAlert().Message,
			"rule": "memory_usage", "metric": "system.memory_percent", "severity": "critical",
			"previous_severity": "warning", "transition": "escalated", "value": 93.2, "threshold": 90.0,
			"direction": "above", "advice": "look at the largest caches first", "starts_at": starts,
		}},
		{"resolved", resolvedAlert(), map[string]any{
			"level": "INFO", "msg": resolvedAlert().Message,
			"rule": "memory_usage", "metric": "system.memory_percent", "severity": "info",
			"previous_severity": "critical", "transition": "resolved", "value": 70.0, "threshold": 76.0,
			"direction": "above", "advice": "look at the largest caches first", "starts_at": starts,
			"ends_at": "2026-03-14T15:14:26.535897932Z",
		}},
		{"unavailable", unavailable, map[string]any{
			"level": "INFO", "msg": unavailable.Message,
			"rule": "memory_usage", "metric": "system.memory_percent", "severity": "info",
			"transition": "firing", "value": "n/a: cgroup unreadable", "threshold": 80.0,
			"direction": "above", "starts_at": starts,
		}},
		{"synthetic without a message", synthetic, map[string]any{
			"level": "ERROR", "msg": "alert firing: memory_usage",
			"rule": "memory_usage", "metric": "system.memory_percent", "severity": "critical",
			"transition": "firing", "value": 83.456, "threshold": 80.0, "direction": "above",
			"advice": "look at the largest caches first", "starts_at": starts, "synthetic": true,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			// Without the time, a line is the same on every run.
			logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{
				ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
					if len(groups) == 0 && a.Key == slog.TimeKey {
						return slog.Attr{}
					}
					return a
				},
			}))
			if err := (LogHandler{Logger: logger}).HandleAlert(context.Background(), tt.a); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) != 1 {
				t.Fatalf("%d lines, want 1:\n%s", len(lines), buf.String())
			}
			got := decodeLogLine(t, lines[0])
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("log line (-want +got):\n%s", diff)
			}
		})
	}
}

// decodeLogLine decodes a JSON log line, failing on a duplicate key, which
// json.Unmarshal would silently resolve to the last value.
func decodeLogLine(t *testing.T, line string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	if _, err := dec.Token(); err != nil { // {
		t.Fatal(err)
	}
	out := map[string]any{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		key := tok.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		if _, dup := out[key]; dup {
			t.Errorf("duplicate key %q in %s", key, line)
		}
		out[key] = v
	}
	return out
}

func TestLogHandlerDefaultLogger(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	t.Cleanup(func() { slog.SetDefault(prev) })
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))

	h := LogHandler{}
	if h.Name() != "log" {
		t.Errorf("Name() = %q, want log", h.Name())
	}
	if err := h.HandleAlert(context.Background(), escalatedAlert()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "level=ERROR") || !strings.Contains(buf.String(), "rule=memory_usage") {
		t.Errorf("default logger got %q, want an ERROR line about memory_usage", buf.String())
	}
}

func TestLogHandlerDisabledLevel(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelError}))
	h := LogHandler{Logger: logger}
	for _, a := range []alert.Alert{firingAlert(), resolvedAlert()} {
		if err := h.HandleAlert(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("logged below the logger's level: %s", buf.String())
	}
}
