package alert

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// State of an alert instance as lists show it.
const (
	StateInactive = "inactive"
	StatePending  = "pending"
	StateFiring   = "firing"
)

// state is the state machine of one rule on one series:
//
//	inactive ──condition──▶ pending ──held for `for`──▶ firing(warning|critical)
//	firing ──worse, held for `for`──▶ escalated; ──better──▶ deescalated
//	firing ──back past the clear level for keep_firing_for──▶ resolved (inactive)
//
// It is a plain value driven by step; the engine serialises access.
type state struct {
	rule   *Rule
	series string

	level    Level     // the level notified as firing; LevelNone when inactive
	since    time.Time // when it began firing
	pendWarn time.Time // when the warning condition began holding; zero if not
	pendCrit time.Time // same for critical
	clearing time.Time // when the value first came back; zero if not
	notified time.Time // last notification, for repeat
	value    metric.Reading

	unavailable string // reason of the informational alert raised, "" if none
	unavailAt   time.Time
}

// ClearLevel returns the level a value must get back past before a firing
// alert of level l (LevelWarning or LevelCritical) clears: the rule's
// clear_warning or clear_critical, else DefaultHysteresis of the threshold
// back from it. ok is false when the rule has no threshold at that level.
// Exporters that judge the rule elsewhere use it to keep its hysteresis.
func (r Rule) ClearLevel(l Level) (level float64, ok bool) {
	switch {
	case l == LevelWarning && r.Warning != nil, l == LevelCritical && r.Critical != nil:
		return r.clearLevel(l), true
	}
	return 0, false
}

// clearLevel is the level a value must get back past for a firing level to
// clear.
func (r *Rule) clearLevel(l Level) float64 {
	t, c := r.Warning, r.ClearWarning
	if l == LevelCritical {
		t, c = r.Critical, r.ClearCritical
	}
	if c != nil {
		return *c
	}
	delta := math.Abs(*t) * DefaultHysteresis
	if r.Direction == Below {
		return *t + delta
	}
	return *t - delta
}

// beyond reports whether v is on the bad side of level t.
func (r *Rule) beyond(v, t float64) bool {
	if r.Direction == Below {
		return v < t
	}
	return v > t
}

func (r *Rule) threshold(l Level) float64 {
	if l == LevelCritical && r.Critical != nil {
		return *r.Critical
	}
	if r.Warning != nil {
		return *r.Warning
	}
	return *r.Critical
}

// target is the level v calls for given the current level: a level already
// firing holds until v is back past its clear level.
func (st *state) target(v float64) Level {
	r := st.rule
	crit := r.Critical != nil && (r.beyond(v, *r.Critical) ||
		st.level == LevelCritical && r.beyond(v, r.clearLevel(LevelCritical)))
	if crit {
		return LevelCritical
	}
	warn := r.Warning != nil && (r.beyond(v, *r.Warning) ||
		st.level.Rank() >= LevelWarning.Rank() && r.beyond(v, r.clearLevel(LevelWarning)))
	if warn {
		return LevelWarning
	}
	// A rule with only a critical level: a firing critical that is below
	// critical but not yet past its clear level holds.
	return LevelNone
}

// step feeds one sample's value at now; active is false when the rule's
// guard does not hold. It returns the notifications due.
func (st *state) step(now time.Time, v metric.Reading, active bool) []Alert {
	var out []Alert
	r := st.rule
	st.value = v
	if !v.OK && !v.Idle {
		// A fault, not a quiet window: say so once, freeze the level.
		st.pendWarn, st.pendCrit = time.Time{}, time.Time{}
		if st.unavailable == "" {
			st.unavailable, st.unavailAt = v.Reason, now
			out = append(out, st.unavailableAlert(now, TransitionFiring))
		}
		return out
	}
	if st.unavailable != "" {
		out = append(out, st.unavailableAlert(now, TransitionResolved))
		st.unavailable = ""
	}

	target := LevelNone
	if v.OK && active {
		target = st.target(v.Value)
	}
	if target.Rank() >= LevelWarning.Rank() {
		if st.pendWarn.IsZero() {
			st.pendWarn = now
		}
	} else {
		st.pendWarn = time.Time{}
	}
	if target == LevelCritical {
		if st.pendCrit.IsZero() {
			st.pendCrit = now
		}
	} else {
		st.pendCrit = time.Time{}
	}
	eligible := LevelNone
	if !st.pendWarn.IsZero() && now.Sub(st.pendWarn) >= r.For {
		eligible = LevelWarning
	}
	if !st.pendCrit.IsZero() && now.Sub(st.pendCrit) >= r.For {
		eligible = LevelCritical
	}

	next := st.level
	switch {
	case eligible.Rank() > st.level.Rank():
		next = eligible
		st.clearing = time.Time{}
	case target.Rank() < st.level.Rank():
		if st.clearing.IsZero() {
			st.clearing = now
		}
		if now.Sub(st.clearing) >= r.KeepFiringFor {
			next = target
			st.clearing = time.Time{}
		}
	default:
		st.clearing = time.Time{}
	}

	if next != st.level {
		prev := st.level
		st.level = next
		var tr Transition
		switch {
		case prev == LevelNone:
			tr = TransitionFiring
			st.since = now
		case next == LevelNone:
			tr = TransitionResolved
		case next.Rank() > prev.Rank():
			tr = TransitionEscalated
		default:
			tr = TransitionDeescalated
		}
		st.notified = now
		out = append(out, st.alert(now, tr, prev, active))
		if next == LevelNone {
			st.since = time.Time{}
		}
	} else if st.level != LevelNone && r.Repeat > 0 && now.Sub(st.notified) >= r.Repeat {
		st.notified = now
		out = append(out, st.alert(now, TransitionRepeat, st.level, active))
	}
	return out
}

// alert builds the notification of a transition.
func (st *state) alert(now time.Time, tr Transition, prev Level, active bool) Alert {
	r := st.rule
	a := Alert{
		Rule: r.Name, Metric: st.series, Level: st.level, Transition: tr,
		Value: st.value, Direction: r.Direction, Advice: r.Advice,
		StartsAt: st.since, At: now,
	}
	if tr != TransitionFiring && tr != TransitionRepeat {
		a.Previous = prev
	}
	val := "no data"
	if st.value.OK {
		val = strconv.FormatFloat(math.Round(st.value.Value*1000)/1000, 'f', -1, 64)
	}
	switch tr {
	case TransitionResolved:
		a.Level = LevelInfo
		a.Threshold = r.clearLevel(prev)
		a.EndsAt = now
		a.Advice = ""
		why := fmt.Sprintf("%s is %s, back %s %v", st.series, val, opposite(r.Direction), a.Threshold)
		if !st.value.OK {
			why = fmt.Sprintf("%s has no data (%s)", st.series, st.value.Reason)
		} else if !active && r.OnlyIf != nil {
			why = fmt.Sprintf("%s no longer judged: %s below %v", st.series, r.OnlyIf.Metric, r.OnlyIf.AtLeast)
		}
		a.Message = fmt.Sprintf("resolved %s: %s", r.Name, why)
	default:
		a.Threshold = r.threshold(st.level)
		a.Message = fmt.Sprintf("%s %s: %s is %s, %s the %s threshold %v",
			st.level, r.Name, st.series, val, r.Direction, st.level, a.Threshold)
	}
	return a
}

// unavailableAlert is the informational alert about a metric the rule
// cannot read. Its rule name is the rule's with ":unavailable", so it is an
// instance apart from the threshold alert.
func (st *state) unavailableAlert(now time.Time, tr Transition) Alert {
	a := Alert{
		Rule: st.rule.Name + ":unavailable", Metric: st.series, Level: LevelInfo, Transition: tr,
		Value: st.value, Direction: st.rule.Direction, StartsAt: st.unavailAt, At: now,
	}
	if tr == TransitionResolved {
		a.Previous, a.EndsAt = LevelInfo, now
		a.Message = fmt.Sprintf("%s can be measured again", st.series)
	} else {
		a.Message = fmt.Sprintf("%s cannot be measured, so rule %s is not evaluated: %s", st.series, st.rule.Name, st.unavailable)
	}
	return a
}

func opposite(d Direction) Direction {
	if d == Below {
		return Above
	}
	return Below
}

// status describes the instance for alert lists.
func (st *state) status() Status {
	s := Status{Rule: st.rule.Name, Metric: st.series, Value: st.value, Direction: st.rule.Direction, Unavailable: st.unavailable}
	switch {
	case st.level != LevelNone:
		s.State, s.Level, s.Since = StateFiring, st.level, st.since
		s.Threshold = st.rule.threshold(st.level)
	case !st.pendCrit.IsZero():
		s.State, s.Level, s.Since = StatePending, LevelCritical, st.pendCrit
		s.Threshold = st.rule.threshold(LevelCritical)
	case !st.pendWarn.IsZero():
		s.State, s.Level, s.Since = StatePending, LevelWarning, st.pendWarn
		s.Threshold = st.rule.threshold(LevelWarning)
	default:
		s.State = StateInactive
	}
	return s
}

// Status is one rule on one series as it stands.
type Status struct {
	Rule      string         `json:"rule"`
	Metric    string         `json:"metric"`
	State     string         `json:"state"` // inactive, pending or firing
	Level     Level          `json:"level,omitempty"`
	Since     time.Time      `json:"since,omitzero"`
	Value     metric.Reading `json:"value"`
	Threshold float64        `json:"threshold"`
	Direction Direction      `json:"direction"`
	// Unavailable is why the metric cannot be measured, when it cannot.
	Unavailable string `json:"unavailable,omitempty"`
}
