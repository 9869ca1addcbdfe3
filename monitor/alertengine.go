package monitor

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// DefaultAlertHistory is how many transitions the alert history keeps.
const DefaultAlertHistory = 500

// alertEngine evaluates the rules on every sample. Its lock is taken by the
// sampler once per sample and by readers of alert state; never by the
// recording hot path.
type alertEngine struct {
	mu     sync.Mutex
	rules  []*Rule                // normalised, in the order added
	states map[string]*alertState // by rule name + "|" + series

	history []Alert // ring of transitions
	head    int
	full    bool
}

func (e *alertEngine) init(historyLen int) {
	e.states = map[string]*alertState{}
	e.history = make([]Alert, 0, historyLen)
}

// knownSeries accepts the series every monitor has and the names of
// registered application gauges.
func (m *Monitor) knownSeries(name string) bool {
	return KnownSeries(name) || m.gauges.get(name) != nil
}

// AddRule adds a rule, validated; a rule of the same name is replaced, and
// its alert state starts afresh. Safe for concurrent use.
func (m *Monitor) AddRule(r Rule) error {
	if err := r.validate(m.knownSeries); err != nil {
		return err
	}
	r = r.normalized()
	e := &m.alerts
	e.mu.Lock()
	defer e.mu.Unlock()
	e.removeLocked(r.Name)
	e.rules = append(e.rules, &r)
	return nil
}

// RemoveRule removes the named rule and forgets its alerts, without
// notifying. It reports whether the rule existed.
func (m *Monitor) RemoveRule(name string) bool {
	e := &m.alerts
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.removeLocked(name)
}

func (e *alertEngine) removeLocked(name string) bool {
	i := slices.IndexFunc(e.rules, func(r *Rule) bool { return r.Name == name })
	if i < 0 {
		return false
	}
	e.rules = slices.Delete(e.rules, i, i+1)
	for k, st := range e.states {
		if st.rule.Name == name {
			delete(e.states, k)
		}
	}
	return true
}

// Rules returns a copy of the rules in force.
func (m *Monitor) Rules() []Rule {
	e := &m.alerts
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Rule, len(e.rules))
	for i, r := range e.rules {
		out[i] = *r
	}
	return out
}

// SetThresholds sets the warning and critical levels of built-in rules,
// keyed by rule name (memory_usage, cpu_usage, process_cpu, cache_hit_rate,
// query_response_time, error_rate, throughput): the guide's
// alert_thresholds. Rules not named keep their levels. Nothing changes
// unless every entry is valid.
func (m *Monitor) SetThresholds(t map[string]Threshold) error {
	next := make([]Rule, 0, len(t))
	for _, name := range sortedKeys(t) {
		base, ok := builtinRule(name)
		if !ok {
			return unknownThreshold(name)
		}
		if cur, ok := m.rule(name); ok {
			base = cur
		}
		r := base.withThreshold(t[name])
		if err := r.validate(m.knownSeries); err != nil {
			return err
		}
		next = append(next, r)
	}
	for _, r := range next {
		if err := m.AddRule(r); err != nil {
			return err
		}
	}
	return nil
}

func (m *Monitor) rule(name string) (Rule, bool) {
	for _, r := range m.Rules() {
		if r.Name == name {
			return r, true
		}
	}
	return Rule{}, false
}

// evaluate runs every rule against the snapshot and returns the
// notifications due, which it has also added to the history.
func (e *alertEngine) evaluate(s *Snapshot) []Alert {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.rules) == 0 {
		return nil
	}
	values := make(map[string]metric.Reading, 128)
	var names []string
	s.EachSeries(func(name string, r metric.Reading) {
		values[name] = r
		names = append(names, name)
	})
	var out []Alert
	for _, r := range e.rules {
		active := true
		if g := r.OnlyIf; g != nil {
			gv := values[g.Metric]
			active = gv.OK && gv.Value >= g.AtLeast
		}
		step := func(series string, v metric.Reading) {
			key := r.Name + "|" + series
			st := e.states[key]
			if st == nil {
				st = &alertState{rule: r, series: series}
				e.states[key] = st
			}
			out = append(out, st.step(s.Time, v, active)...)
		}
		if !strings.Contains(r.Metric, "*") {
			v, ok := values[r.Metric]
			if !ok {
				v = metric.NoData("no such series yet")
			}
			step(r.Metric, v)
			continue
		}
		for _, name := range names {
			if r.matches(name) {
				step(name, values[name])
			}
		}
	}
	for _, a := range out {
		e.record(a)
	}
	return out
}

func (e *alertEngine) record(a Alert) {
	if len(e.history) < cap(e.history) {
		e.history = append(e.history, a)
		return
	}
	if cap(e.history) == 0 {
		return
	}
	e.history[e.head] = a
	e.head = (e.head + 1) % len(e.history)
	e.full = true
}

// AlertHistory returns the retained transitions, oldest first.
func (m *Monitor) AlertHistory() []Alert {
	e := &m.alerts
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Alert, 0, len(e.history))
	out = append(out, e.history[e.head:]...)
	return append(out, e.history[:e.head]...)
}

// Alerts returns every rule instance that is pending or firing, or whose
// metric cannot be measured, most severe first.
func (m *Monitor) Alerts() []AlertStatus {
	e := &m.alerts
	e.mu.Lock()
	out := make([]AlertStatus, 0, len(e.states))
	for _, st := range e.states {
		if s := st.status(); s.State != StateInactive || s.Unavailable != "" {
			out = append(out, s)
		}
	}
	e.mu.Unlock()
	slices.SortFunc(out, func(a, b AlertStatus) int {
		if d := stateRank(b) - stateRank(a); d != 0 {
			return d
		}
		if a.Rule != b.Rule {
			if a.Rule < b.Rule {
				return -1
			}
			return 1
		}
		if a.Metric < b.Metric {
			return -1
		}
		if a.Metric > b.Metric {
			return 1
		}
		return 0
	})
	return out
}

func stateRank(s AlertStatus) int {
	r := s.Level.rank()
	if s.State == StateFiring {
		r += 10
	}
	return r
}

// TestAlert sends a synthetic alert of the given level through every
// handler at once, bypassing the queues, and reports how each fared: the
// guide's "test with known threshold violations", for checking that a
// webhook or pager is wired up. It waits for every handler or for ctx.
func (m *Monitor) TestAlert(ctx context.Context, level Level) []HandlerResult {
	if level.rank() == 0 {
		level = LevelWarning
	}
	now := m.opts.now()
	a := Alert{
		Rule: "pbatunnel_test", Metric: "synthetic", Level: level, Transition: TransitionFiring,
		Value: metric.Measured(1), Threshold: 0, Direction: Above, StartsAt: now, At: now, Synthetic: true,
		Message: fmt.Sprintf("test %s alert from pbatunnel: if you can read this, alerts reach you", level),
		Advice:  "Nothing to do: this alert was sent on purpose to test delivery.",
	}
	hs := m.dispatch.handlers()
	res := make([]HandlerResult, len(hs))
	var wg sync.WaitGroup
	for i, h := range hs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			err := h.h.HandleAlert(ctx, a)
			res[i] = HandlerResult{Handler: h.name, Err: err, Took: time.Since(start)}
		}()
	}
	wg.Wait()
	return res
}

// HandlerResult is how one handler fared with a test alert.
type HandlerResult struct {
	Handler string
	Err     error
	Took    time.Duration
}
