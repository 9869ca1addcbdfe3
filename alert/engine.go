package alert

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// DefaultHistory is how many transitions the alert history keeps.
const DefaultHistory = 500

// Options configure an Engine. The zero value is a good default for every
// field.
type Options struct {
	// NoDefaultRules starts the engine without the built-in rules
	// (DefaultRules).
	NoDefaultRules bool
	// History bounds the number of transitions kept. Default 500.
	History int
	// Queue bounds each handler's queue. Default 256.
	Queue int
	// Logger receives handler failures. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock of test alerts. Default: the monitor's.
	Now func() time.Time
}

// An Engine judges every sample of a monitor by its rules: each rule
// instance (a rule and one series it matches) goes inactive → pending →
// firing → resolved, and every transition is kept in a bounded history,
// published to subscribers and sent to the handlers. Create one with New;
// it judges the samples the monitor takes from then on. All methods are
// safe for concurrent use, and the read methods of a nil Engine report no
// rules and no alerts.
//
// The engine's lock is taken by the sampler once per sample and by readers
// of alert state, never by the recording hot path.
type Engine struct {
	m    *monitor.Monitor
	now  func() time.Time
	subs monitor.Fanout[Alert]

	mu     sync.Mutex
	rules  []*Rule           // normalised, in the order added
	states map[string]*state // by rule name + "|" + series

	history []Alert // ring of transitions
	head    int

	dispatch dispatcher
}

// New returns an engine with the built-in rules (unless
// opts.NoDefaultRules) that judges every sample m takes from now on.
// Handlers are called inline until Start runs their queues.
func New(m *monitor.Monitor, opts Options) *Engine {
	if opts.History <= 0 {
		opts.History = DefaultHistory
	}
	if opts.Queue <= 0 {
		opts.Queue = DefaultQueue
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = m.Now
	}
	e := &Engine{m: m, now: opts.Now, states: map[string]*state{}, history: make([]Alert, 0, opts.History)}
	e.dispatch.queue = opts.Queue
	logger := opts.Logger
	e.dispatch.onError = func(name string, err error) {
		logger.Warn("alert handler failed", "handler", name, "err", err)
	}
	if !opts.NoDefaultRules {
		for _, r := range DefaultRules() {
			if err := e.AddRule(r); err != nil {
				panic("alert: invalid built-in rule: " + err.Error())
			}
		}
	}
	m.OnSample(e.judge)
	return e
}

// Start runs a goroutine and a bounded queue per handler until ctx ends,
// so that a dead webhook delays nothing but itself, never the sampler or
// the tool calls; when a queue is full, notifications to that handler are
// dropped and counted. Start it before the monitor, so that the first
// sample's alerts are queued rather than delivered inline. Wait returns
// when the workers have ended.
func (e *Engine) Start(ctx context.Context) { e.dispatch.run(ctx) }

// Wait waits for the handlers' workers started by Start to end.
func (e *Engine) Wait() { e.dispatch.wait() }

// judge evaluates the sample, publishes the transitions and hands them to
// the handlers. The monitor calls it with every sample before publishing
// the sample, so a reader of the sample sees the alert state it caused.
func (e *Engine) judge(ctx context.Context, s *monitor.Snapshot) {
	alerts := e.evaluate(s)
	for _, a := range alerts {
		e.subs.Publish(a)
	}
	e.dispatch.send(ctx, alerts)
}

// Subscribe returns a channel that receives every transition from now
// on, closed when ctx ends. A subscriber that falls more than buf behind
// loses the oldest.
func (e *Engine) Subscribe(ctx context.Context, buf int) <-chan Alert {
	return e.subs.Subscribe(ctx, buf)
}

// AddRule adds a rule, validated; a rule of the same name is replaced, and
// its alert state starts afresh. Rules may name the monitor's series and
// its registered application gauges.
func (e *Engine) AddRule(r Rule) error {
	if err := r.validate(e.m.HasSeries); err != nil {
		return err
	}
	r = r.normalized()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.removeLocked(r.Name)
	e.rules = append(e.rules, &r)
	return nil
}

// RemoveRule removes the named rule and forgets its alerts, without
// notifying. It reports whether the rule existed.
func (e *Engine) RemoveRule(name string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.removeLocked(name)
}

func (e *Engine) removeLocked(name string) bool {
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
func (e *Engine) Rules() []Rule {
	if e == nil {
		return nil
	}
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
func (e *Engine) SetThresholds(t map[string]Threshold) error {
	next := make([]Rule, 0, len(t))
	for _, name := range slices.Sorted(maps.Keys(t)) {
		base, ok := builtinRule(name)
		if !ok {
			return unknownThreshold(name)
		}
		if cur, ok := e.rule(name); ok {
			base = cur
		}
		r := base.withThreshold(t[name])
		if err := r.validate(e.m.HasSeries); err != nil {
			return err
		}
		next = append(next, r)
	}
	for _, r := range next {
		if err := e.AddRule(r); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) rule(name string) (Rule, bool) {
	for _, r := range e.Rules() {
		if r.Name == name {
			return r, true
		}
	}
	return Rule{}, false
}

// evaluate runs every rule against the snapshot and returns the
// notifications due, which it has also added to the history.
func (e *Engine) evaluate(s *monitor.Snapshot) []Alert {
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
				st = &state{rule: r, series: series}
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

func (e *Engine) record(a Alert) {
	if len(e.history) < cap(e.history) {
		e.history = append(e.history, a)
		return
	}
	if cap(e.history) == 0 {
		return
	}
	e.history[e.head] = a
	e.head = (e.head + 1) % len(e.history)
}

// History returns the retained transitions, oldest first.
func (e *Engine) History() []Alert {
	if e == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Alert, 0, len(e.history))
	out = append(out, e.history[e.head:]...)
	return append(out, e.history[:e.head]...)
}

// Active returns every rule instance that is pending or firing, or whose
// metric cannot be measured, most severe first.
func (e *Engine) Active() []Status {
	if e == nil {
		return nil
	}
	e.mu.Lock()
	out := make([]Status, 0, len(e.states))
	for _, st := range e.states {
		if s := st.status(); s.State != StateInactive || s.Unavailable != "" {
			out = append(out, s)
		}
	}
	e.mu.Unlock()
	slices.SortFunc(out, func(a, b Status) int {
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

func stateRank(s Status) int {
	r := s.Level.Rank()
	if s.State == StateFiring {
		r += 10
	}
	return r
}

// Test sends a synthetic alert of the given level through every
// handler at once, bypassing the queues, and reports how each fared: the
// guide's "test with known threshold violations", for checking that a
// webhook or pager is wired up. It waits for every handler or for ctx.
func (e *Engine) Test(ctx context.Context, level Level) []HandlerResult {
	if level.Rank() == 0 {
		level = LevelWarning
	}
	now := e.now()
	a := Alert{
		Rule: "pbatunnel_test", Metric: "synthetic", Level: level, Transition: TransitionFiring,
		Value: metric.Measured(1), Threshold: 0, Direction: Above, StartsAt: now, At: now, Synthetic: true,
		Message: fmt.Sprintf("test %s alert from pbatunnel: if you can read this, alerts reach you", level),
		Advice:  "Nothing to do: this alert was sent on purpose to test delivery.",
	}
	hs := e.dispatch.handlers()
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
