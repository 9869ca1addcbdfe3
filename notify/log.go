package notify

import (
	"context"
	"log/slog"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
)

// A LogHandler writes each notification as one structured log line: at
// level Error when critical, Warn when warning, Info otherwise (information
// and resolutions). The message is the alert's message; the attributes are
// rule, metric, severity (the alert's level), previous_severity (when
// known), transition, value (a number, or "n/a: reason" when the metric
// could not be measured), threshold, direction, advice (when given),
// starts_at, ends_at (when resolved) and synthetic (for a test alert).
//
// The alert's level is "severity", as in the Alertmanager labels, because
// "level" is the log record's own key: a second "level" would make a JSON
// line with a duplicate key, which most log tools read as the last one.
//
// A LogHandler is safe for concurrent use.
type LogHandler struct {
	Logger *slog.Logger // nil means slog.Default()
}

var _ alert.NamedHandler = LogHandler{}

// Name returns "log".
func (LogHandler) Name() string { return "log" }

// HandleAlert logs a. It never fails: a log line that cannot be written is
// the logger's problem, and retrying would not help.
func (h LogHandler) HandleAlert(ctx context.Context, a alert.Alert) error {
	logger := h.Logger
	if logger == nil {
		logger = slog.Default()
	}
	level := slog.LevelInfo
	if a.Transition != alert.TransitionResolved {
		switch a.Level {
		case alert.LevelCritical:
			level = slog.LevelError
		case alert.LevelWarning:
			level = slog.LevelWarn
		}
	}
	if !logger.Enabled(ctx, level) {
		return nil
	}
	attrs := make([]slog.Attr, 0, 14)
	attrs = append(attrs,
		slog.String("rule", a.Rule),
		slog.String("metric", a.Metric),
		slog.String("severity", string(a.Level)),
	)
	if a.Previous != alert.LevelNone {
		attrs = append(attrs, slog.String("previous_severity", string(a.Previous)))
	}
	attrs = append(attrs, slog.String("transition", string(a.Transition)))
	if a.Value.OK {
		attrs = append(attrs, slog.Float64("value", a.Value.Value))
	} else {
		attrs = append(attrs, slog.String("value", "n/a: "+a.Value.Reason))
	}
	attrs = append(attrs,
		slog.Float64("threshold", a.Threshold),
		slog.String("direction", string(a.Direction)),
	)
	if a.Advice != "" {
		attrs = append(attrs, slog.String("advice", a.Advice))
	}
	attrs = append(attrs, slog.Time("starts_at", a.StartsAt))
	if !a.EndsAt.IsZero() {
		attrs = append(attrs, slog.Time("ends_at", a.EndsAt))
	}
	if a.Synthetic {
		attrs = append(attrs, slog.Bool("synthetic", true))
	}
	msg := a.Message
	if msg == "" {
		msg = "alert " + string(a.Transition) + ": " + a.Rule
	}
	logger.LogAttrs(ctx, level, msg, attrs...)
	return nil
}
