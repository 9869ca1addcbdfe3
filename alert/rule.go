package alert

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// Direction says which side of a threshold is bad.
type Direction string

// Directions.
const (
	Above Direction = "above" // alert when the value rises above the threshold
	Below Direction = "below" // alert when the value falls below it
)

// DefaultHysteresis is how far back past a threshold a value must go before
// its alert clears, as a fraction of the threshold, when a rule sets no
// clear level: a memory warning at 80 % clears below 76 %. It keeps a value
// wobbling around a threshold from flapping the alert.
const DefaultHysteresis = 0.05

// A Rule watches one series, or every series matching a pattern, and alerts
// when the value is beyond its warning or critical threshold.
//
// Its zero value is not valid: a rule needs a Metric and at least one of
// Warning and Critical.
type Rule struct {
	// Name identifies the rule; it defaults to Metric.
	Name string `json:"name"`
	// Metric is a series name (see Snapshot.EachSeries), or a pattern with
	// '*' standing for one name segment, as in "tool.*.error_rate_percent":
	// then every matching series is an alert of its own.
	Metric string `json:"metric"`
	// Direction is Above (the default) or Below.
	Direction Direction `json:"direction"`
	// Warning and Critical are the thresholds; either may be nil, not both.
	Warning  *float64 `json:"warning,omitempty"`
	Critical *float64 `json:"critical,omitempty"`
	// ClearWarning and ClearCritical are the levels a value must get back
	// past before the alert clears (hysteresis). Nil means
	// DefaultHysteresis of the threshold.
	ClearWarning  *float64 `json:"clear_warning,omitempty"`
	ClearCritical *float64 `json:"clear_critical,omitempty"`
	// For is how long a condition must hold before the alert fires (or
	// escalates); meanwhile it is pending. Zero fires at once.
	For time.Duration `json:"for"`
	// KeepFiringFor is how long an alert keeps firing after its condition
	// cleared, so one good sample does not resolve it. Zero clears at once.
	KeepFiringFor time.Duration `json:"keep_firing_for"`
	// Repeat re-notifies a firing alert this often. Zero (the default)
	// notifies transitions only.
	Repeat time.Duration `json:"repeat"`
	// OnlyIf, when set, limits the rule to samples where another series is
	// at least a minimum: an error rate is judged only over enough calls, a
	// throughput only when the server is busy. Otherwise the rule is idle:
	// nothing fires, and a firing alert resolves.
	OnlyIf *Guard `json:"only_if,omitempty"`
	// Advice tells whoever is paged where to look.
	Advice string `json:"advice,omitempty"`
}

// A Guard is a condition on another series: its value is at least AtLeast.
type Guard struct {
	Metric  string  `json:"metric"`
	AtLeast float64 `json:"at_least"`
}

// Threshold is a warning and critical pair, as in the guide's
// alert_thresholds.
type Threshold struct {
	Warning  float64 `json:"warning"`
	Critical float64 `json:"critical"`
}

// ErrInvalidRule is wrapped by every rule validation error.
var ErrInvalidRule = errors.New("invalid rule")

// A RuleError says which field of which rule is wrong.
type RuleError struct {
	Rule  string // the rule's name
	Field string // e.g. "warning", "for", "only_if.metric"
	Msg   string
}

func (e *RuleError) Error() string {
	return fmt.Sprintf("rule %q: %s: %s", e.Rule, e.Field, e.Msg)
}

// Unwrap makes errors.Is(err, ErrInvalidRule) true.
func (e *RuleError) Unwrap() error { return ErrInvalidRule }

// Ptr returns a pointer to v, for Rule's optional thresholds.
func Ptr(v float64) *float64 { return &v }

// normalized returns the rule with its defaults filled in.
func (r Rule) normalized() Rule {
	if r.Name == "" {
		r.Name = r.Metric
	}
	if r.Direction == "" {
		r.Direction = Above
	}
	return r
}

// Validate checks the rule against the series every monitor has.
// Monitor.AddRule also accepts the names of registered application gauges.
// Errors are *RuleError naming the field.
func (r Rule) Validate() error { return r.validate(monitor.KnownSeries) }

func (r Rule) validate(known func(string) bool) error {
	r = r.normalized()
	bad := func(field, format string, args ...any) error {
		return &RuleError{Rule: r.Name, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if r.Metric == "" {
		return bad("metric", "required")
	}
	if !known(r.Metric) {
		return bad("metric", "unknown metric %q (see docs/ALERTS.md for the series names)", r.Metric)
	}
	if r.Direction != Above && r.Direction != Below {
		return bad("direction", "%q is neither %q nor %q", r.Direction, Above, Below)
	}
	if r.Warning == nil && r.Critical == nil {
		return bad("warning", "a rule needs a warning or a critical threshold")
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"warning", r.Warning}, {"critical", r.Critical}, {"clear_warning", r.ClearWarning}, {"clear_critical", r.ClearCritical}} {
		if f.v != nil && (math.IsNaN(*f.v) || math.IsInf(*f.v, 0)) {
			return bad(f.name, "not a finite number")
		}
	}
	// "Beyond" in the rule's direction: above for Above, below for Below.
	beyond := func(a, b float64) bool {
		if r.Direction == Above {
			return a > b
		}
		return a < b
	}
	if r.Warning != nil && r.Critical != nil && beyond(*r.Warning, *r.Critical) {
		return bad("warning", "%v is beyond critical %v for direction %s", *r.Warning, *r.Critical, r.Direction)
	}
	if r.ClearWarning != nil {
		if r.Warning == nil {
			return bad("clear_warning", "set without a warning threshold")
		}
		if beyond(*r.ClearWarning, *r.Warning) {
			return bad("clear_warning", "%v is beyond the warning threshold %v: the alert could never clear", *r.ClearWarning, *r.Warning)
		}
	}
	if r.ClearCritical != nil {
		if r.Critical == nil {
			return bad("clear_critical", "set without a critical threshold")
		}
		if beyond(*r.ClearCritical, *r.Critical) {
			return bad("clear_critical", "%v is beyond the critical threshold %v: the alert could never clear", *r.ClearCritical, *r.Critical)
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"for", r.For}, {"keep_firing_for", r.KeepFiringFor}, {"repeat", r.Repeat}} {
		if d.v < 0 {
			return bad(d.name, "negative duration %v", d.v)
		}
	}
	if g := r.OnlyIf; g != nil {
		if g.Metric == "" {
			return bad("only_if.metric", "required")
		}
		if strings.Contains(g.Metric, "*") {
			return bad("only_if.metric", "a guard names one series, not a pattern")
		}
		if !known(g.Metric) {
			return bad("only_if.metric", "unknown metric %q", g.Metric)
		}
		if math.IsNaN(g.AtLeast) || math.IsInf(g.AtLeast, 0) {
			return bad("only_if.at_least", "not a finite number")
		}
	}
	return nil
}

// matches reports whether series is watched by the rule's metric pattern.
func (r *Rule) matches(series string) bool { return globMatch(r.Metric, series) }

// globMatch matches s against a pattern in which '*' stands for any run of
// characters, dots included, because tool names may contain dots.
func globMatch(pattern, s string) bool {
	star, resume := -1, 0
	p, i := 0, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, resume = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			resume++
			i = resume
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// MarshalJSON writes durations as Go duration strings ("1m0s") and adds
// the effective clear levels, so that what is shown is what is enforced.
func (r Rule) MarshalJSON() ([]byte, error) {
	type plain Rule
	out := struct {
		plain
		For           string   `json:"for"`
		KeepFiringFor string   `json:"keep_firing_for"`
		Repeat        string   `json:"repeat"`
		ClearWarning  *float64 `json:"clear_warning,omitempty"`
		ClearCritical *float64 `json:"clear_critical,omitempty"`
	}{plain: plain(r), For: r.For.String(), KeepFiringFor: r.KeepFiringFor.String(), Repeat: r.Repeat.String()}
	if r.Warning != nil {
		out.ClearWarning = Ptr(r.clearLevel(LevelWarning))
	}
	if r.Critical != nil {
		out.ClearCritical = Ptr(r.clearLevel(LevelCritical))
	}
	return json.Marshal(out)
}
