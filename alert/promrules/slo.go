package promrules

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// Defaults of an SLO's zero fields.
const (
	DefaultSLOWindow        = 30 * 24 * time.Hour
	DefaultObjective        = 0.99
	DefaultLatencyThreshold = 500 * time.Millisecond
)

// An SLO holds service level objectives for the tool calls of every
// pbatunnel Prometheus scrapes, each alerted on by its error budget's burn
// rate. A nil objective is not alerted on; DefaultSLO has both.
type SLO struct {
	// Window is the period the objectives hold over, in which the error
	// budget is spent. A burn rate is relative to the budget's pace, so
	// the window changes no expression: the descriptions say in it how
	// soon a burn spends the budget. Zero means DefaultSLOWindow (30
	// days).
	Window time.Duration
	// ErrorRatio is an objective for the share of tool calls that
	// succeed; nil for none.
	ErrorRatio *ErrorRatio
	// Latency is an objective for the share of tool calls faster than a
	// threshold; nil for none.
	Latency *Latency
}

// ErrorRatio is an objective for the share of tool calls that succeed: a
// call with any error_type (isError, a JSON-RPC error, cancelled) is bad.
type ErrorRatio struct {
	// Objective is the share that must succeed, between 0 and 1: 0.99
	// leaves an error budget of 1 % of calls. Zero means DefaultObjective.
	Objective float64
}

// Latency is an objective for the share of tool calls, failed ones
// included, that take at most Threshold.
type Latency struct {
	// Objective is the share that must be that fast, between 0 and 1.
	// Zero means DefaultObjective.
	Objective float64
	// Threshold must be an upper bound of the duration histogram's buckets
	// (monitor.DurationBounds), because Prometheus can count the calls at
	// or under a bound and nowhere in between. Zero means
	// DefaultLatencyThreshold (500ms).
	Threshold time.Duration
}

// DefaultSLO returns an SLO with both objectives at their defaults.
func DefaultSLO() *SLO { return &SLO{ErrorRatio: &ErrorRatio{}, Latency: &Latency{}} }

// An SLOError says what is wrong with one field of an SLO. Field is named
// as in the config file's slo section, such as "latency.threshold".
type SLOError struct {
	Field string
	Msg   string
}

func (e *SLOError) Error() string { return e.Field + ": " + e.Msg }

// A burn is one multiwindow, multi-burn-rate alert, as The Site
// Reliability Workbook's chapter "Alerting on SLOs" recommends: it fires
// while the share of bad calls over both its long and its short window is
// above rate times the error budget. The long window makes it significant,
// the short one makes it stop soon after the burn does.
type burn struct {
	long, short time.Duration
	rate        float64
	level       alert.Level // critical pages, warning is a ticket
}

// burns are the workbook's: for a 30-day window, 2 % of the budget spent
// in an hour or 5 % in six pages; 10 % in a day or in three is a ticket.
var burns = []burn{
	{time.Hour, 5 * time.Minute, 14.4, alert.LevelCritical},
	{6 * time.Hour, 30 * time.Minute, 6, alert.LevelCritical},
	{24 * time.Hour, 2 * time.Hour, 3, alert.LevelWarning},
	{3 * 24 * time.Hour, 6 * time.Hour, 1, alert.LevelWarning},
}

// windows are the burns' windows, shortest first, each recorded once.
func windows() []time.Duration {
	var ws []time.Duration
	for _, b := range burns {
		ws = append(ws, b.long, b.short)
	}
	slices.Sort(ws)
	return slices.Compact(ws)
}

// withDefaults returns s with its zero fields at their defaults.
func (s SLO) withDefaults() SLO {
	if s.Window == 0 {
		s.Window = DefaultSLOWindow
	}
	if e := s.ErrorRatio; e != nil {
		e2 := *e
		if e2.Objective == 0 {
			e2.Objective = DefaultObjective
		}
		s.ErrorRatio = &e2
	}
	if l := s.Latency; l != nil {
		l2 := *l
		if l2.Objective == 0 {
			l2.Objective = DefaultObjective
		}
		if l2.Threshold == 0 {
			l2.Threshold = DefaultLatencyThreshold
		}
		s.Latency = &l2
	}
	return s
}

// Validate reports every problem of s, each a *SLOError, joined.
func (s SLO) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &SLOError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	longest := burns[len(burns)-1].long
	switch {
	case s.Window < 0:
		bad("window", "must be positive, got %s", s.Window)
	case s.Window != 0 && s.Window < longest:
		bad("window", "must be at least %s, the longest burn-rate window, got %s", promDuration(longest), promDuration(s.Window))
	}
	if e := s.ErrorRatio; e != nil {
		if msg := checkObjective(e.Objective, "succeed"); msg != "" {
			bad("error_ratio.objective", "%s", msg)
		}
	}
	if l := s.Latency; l != nil {
		if msg := checkObjective(l.Objective, "be that fast"); msg != "" {
			bad("latency.objective", "%s", msg)
		}
		if msg := checkThreshold(l.Threshold); msg != "" {
			bad("latency.threshold", "%s", msg)
		}
	}
	return errors.Join(errs...)
}

// checkObjective returns what is wrong with an objective, "" if nothing.
func checkObjective(o float64, must string) string {
	if o == 0 {
		return "" // the default
	}
	if math.IsNaN(o) || math.IsInf(o, 0) || o <= 0 || o >= 1 {
		msg := fmt.Sprintf("want the share of tool calls that must %s, between 0 and 1 such as 0.99, got %v", must, o)
		if o > 1 && o < 100 {
			msg += fmt.Sprintf(" (a percentage? write %v)", number(o/100))
		}
		return msg
	}
	// The fastest burn must be reachable: an error ratio cannot pass 1.
	fastest := burns[0].rate
	if budget := budgetOf(o); fastest*budget >= 1 {
		return fmt.Sprintf("%v leaves an error budget of %v: the fast page fires at %v times the budget, a ratio of %v, "+
			"which cannot happen; want an objective above %s", o, number(budget), number(fastest), number(fastest*budget),
			strings.TrimRight(fmt.Sprintf("%.4f", 1-1/fastest), "0"))
	}
	return ""
}

// checkThreshold returns what is wrong with a latency threshold, "" if
// nothing.
func checkThreshold(d time.Duration) string {
	if d == 0 {
		return ""
	}
	if d < 0 {
		return fmt.Sprintf("must be positive, got %s", d)
	}
	bounds := monitor.DurationBounds()
	if slices.Contains(bounds, d) {
		return ""
	}
	names := make([]string, len(bounds))
	for i, b := range bounds {
		names[i] = shortDuration(b)
	}
	msg := fmt.Sprintf("%s is not a bucket bound of %s: Prometheus counts the calls at or under a bound and "+
		"nowhere in between, so the threshold must be one of %s", shortDuration(d), opDuration, strings.Join(names, ", "))
	i, _ := slices.BinarySearch(bounds, d)
	switch {
	case i == 0:
		msg += fmt.Sprintf("; the nearest is %s", names[0])
	case i == len(bounds):
		msg += fmt.Sprintf("; the nearest is %s", names[i-1])
	default:
		msg += fmt.Sprintf("; the nearest are %s and %s", names[i-1], names[i])
	}
	return msg
}

// shortDuration writes d as a config file would: 500ms, 2.5ms, 1m.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	return s
}

// sloRules adds the SLOs' recording rules to b and returns their alerts.
func (b *builder) sloRules(s SLO) []Rule {
	var out []Rule
	if e := s.ErrorRatio; e != nil {
		ratio := func(w time.Duration) string {
			calls := b.callsOver(w)
			errs := b.record("instance:pbatunnel_tool_errors:rate"+promDuration(w),
				binop(sumRate(selector(opCount, toolCallsOnly, failed), w), "or", "0 * "+calls))
			return b.record("instance:pbatunnel_tool_errors:ratio_rate"+promDuration(w), errs+" / "+calls)
		}
		out = append(out, b.burnAlerts(s, e.Objective, "tool_errors", "PbatunnelToolErrorBudgetBurn", ratio,
			"to succeed", "of tool calls failed",
			"See which tools fail on the dashboard's Tools tab and read their error results and the server log.")...)
	}
	if l := s.Latency; l != nil {
		thr := shortDuration(l.Threshold)
		ratio := func(w time.Duration) string {
			calls := b.callsOver(w)
			fast := b.record("instance:pbatunnel_tool_calls_within_"+promDuration(l.Threshold)+":rate"+promDuration(w),
				sumRate(selector(opBucket, toolCallsOnly, leMatcher(l.Threshold)), w))
			return b.record("instance:pbatunnel_tool_calls_slower_than_"+promDuration(l.Threshold)+":ratio_rate"+promDuration(w),
				"1 - "+fast+" / "+calls)
		}
		out = append(out, b.burnAlerts(s, l.Objective, "tool_latency", "PbatunnelToolLatencyBudgetBurn", ratio,
			"to take at most "+thr, "of tool calls took longer than "+thr,
			"Find the slow tools on the dashboard's Tools tab (p95) and the slow calls in its call log.")...)
	}
	return out
}

// callsOver records the tool call rate over w.
func (b *builder) callsOver(w time.Duration) string {
	return b.record("instance:pbatunnel_tool_calls:rate"+promDuration(w), sumRate(selector(opCount, toolCallsOnly), w))
}

// burnAlerts returns one alert per burn for an objective whose bad-call
// ratio over a window ratio records. good says what the objective asks of
// a call, bad what happened to the others.
func (b *builder) burnAlerts(s SLO, objective float64, slo, name string, ratio func(time.Duration) string, good, bad, advice string) []Rule {
	for _, w := range windows() {
		ratio(w) // every window, in order, so that the file reads shortest first
	}
	budget := budgetOf(objective)
	var out []Rule
	for _, bu := range burns {
		th := fmt.Sprintf("(%s * %s)", number(bu.rate), number(budget))
		kind := "page"
		if bu.level != alert.LevelCritical {
			kind = "ticket"
		}
		out = append(out, Rule{
			Alert: name,
			Expr:  fmt.Sprintf("%s > %s\nand\n%s > %s", ratio(bu.long), th, ratio(bu.short), th),
			Labels: map[string]string{
				"severity": string(bu.level), "slo": slo,
				"long_window": promDuration(bu.long), "short_window": promDuration(bu.short),
			},
			Annotations: map[string]string{
				"summary": fmt.Sprintf("{{ $labels.instance }}: the %s error budget burns at %s× the rate the objective allows (%s)",
					slo, number(bu.rate), kind),
				"description": fmt.Sprintf("{{ $value | humanizePercentage }} %s over the last %s, and more than %s over the last %s; "+
					"the objective is for %s of tool calls %s over %s, a budget of %s: at %s× that rate it is spent in %s. %s",
					bad, promDuration(bu.long), percent(bu.rate*budget), promDuration(bu.short), objectivePercent(objective), good,
					promDuration(s.Window), percent(budget), number(bu.rate), humanDuration(time.Duration(float64(s.Window)/bu.rate)), advice),
			},
		})
	}
	out[0].Comment = fmt.Sprintf("SLO %s: the objective is for %s of tool calls %s over %s. Multiwindow, multi-burn-rate alerts "+
		"(critical pages, warning is a ticket) fire while the share of bad calls over both windows is above "+
		"the burn rate times the budget (%s).", slo, objectivePercent(objective), good, promDuration(s.Window), percent(budget))
	return out
}

// percent writes a ratio as a percentage: 0.99 is "99%".
func percent(r float64) string { return number(r*100) + "%" }

// budgetOf is the error budget an objective leaves, 1 − o, worked out on
// the decimal the objective was written as: in float arithmetic 1 −
// 0.99999 is 0.00000999999999995, which number keeps (its noise is in the
// fifth digit, not the twelfth) and the file would show.
func budgetOf(o float64) float64 {
	b, _ := new(big.Rat).Sub(big.NewRat(1, 1), decimal(o)).Float64()
	return b
}

// objectivePercent writes an objective as a percentage with every digit
// it was written with: 0.99999999999999 is 99.999999999999%, where
// percent's twelve significant digits would round it to 100%.
func objectivePercent(o float64) string {
	p, _ := new(big.Rat).Mul(decimal(o), big.NewRat(100, 1)).Float64()
	return strconv.FormatFloat(p, 'f', -1, 64) + "%"
}

// decimal is v as the shortest decimal that reads back as v, exactly.
func decimal(v float64) *big.Rat {
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(v, 'g', -1, 64))
	if !ok { // NaN or an infinity, which Validate refuses
		return new(big.Rat)
	}
	return r
}
