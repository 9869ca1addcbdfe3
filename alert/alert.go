package alert

import (
	"context"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// Level is an alert's severity.
type Level string

// Alert levels, lowest first. Resolved alerts and alerts about metrics that
// cannot be measured are informational.
const (
	LevelNone     Level = ""
	LevelInfo     Level = "info"
	LevelWarning  Level = "warning"
	LevelCritical Level = "critical"
)

// Rank orders levels: 0 for none, then info, warning and critical.
func (l Level) Rank() int {
	switch l {
	case LevelInfo:
		return 1
	case LevelWarning:
		return 2
	case LevelCritical:
		return 3
	}
	return 0
}

// Transition is what happened to an alert.
type Transition string

// Alert transitions. Every one of them is notified.
const (
	// Firing: a rule's condition has held for its `for` duration.
	TransitionFiring Transition = "firing"
	// Escalated: a firing warning became critical.
	TransitionEscalated Transition = "escalated"
	// Deescalated: a firing critical fell back to warning.
	TransitionDeescalated Transition = "deescalated"
	// Resolved: the value is back past the clear level (informational).
	TransitionResolved Transition = "resolved"
	// Repeat: still firing, re-notified because the rule sets `repeat`.
	TransitionRepeat Transition = "repeat"
)

// An Alert is one notification: a rule's state changed for one series.
type Alert struct {
	Rule       string     `json:"rule"`
	Metric     string     `json:"metric"` // the series, e.g. "tool.code_analysis.p95_ms"
	Level      Level      `json:"level"`  // info for resolved and unavailable alerts
	Previous   Level      `json:"previous_level,omitempty"`
	Transition Transition `json:"transition"`
	// Value is the figure that caused the transition; unavailable for
	// alerts about a metric that cannot be measured.
	Value metric.Reading `json:"value"`
	// Threshold is the level crossed (for resolved: the clear level), and
	// Direction says which way ("above" or "below").
	Threshold float64   `json:"threshold"`
	Direction Direction `json:"direction"`
	// Message is one line for a human; Advice says where to look.
	Message string `json:"message"`
	Advice  string `json:"advice,omitempty"`
	// StartsAt is when this alert began firing; At is this transition;
	// EndsAt is set when it resolved.
	StartsAt time.Time `json:"starts_at"`
	At       time.Time `json:"at"`
	EndsAt   time.Time `json:"ends_at,omitzero"`
	// Synthetic marks a test alert sent by TestAlert.
	Synthetic bool `json:"synthetic,omitempty"`
}

// Fingerprint identifies the alert's instance (rule and series) across its
// transitions.
func (a Alert) Fingerprint() string { return a.Rule + "|" + a.Metric }

// A Handler receives alert notifications. The engine calls each handler
// from a goroutine of its own, through a bounded queue, so a slow handler
// delays only itself; when its queue is full, notifications to it are
// dropped and counted (see Engine.HandlerStats). An error is counted and
// logged.
type Handler interface {
	HandleAlert(ctx context.Context, a Alert) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, a Alert) error

// HandleAlert calls f.
func (f HandlerFunc) HandleAlert(ctx context.Context, a Alert) error { return f(ctx, a) }

// A NamedHandler has a name to show in handler statistics and test results.
type NamedHandler interface {
	Handler
	Name() string
}
