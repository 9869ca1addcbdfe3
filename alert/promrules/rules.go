package promrules

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// DefaultRateWindow is the window of the rates that stand for pbatunnel's
// last-minute figures (and its per-interval ones).
const DefaultRateWindow = time.Minute

// Options say what to write. The zero value writes an empty file: give
// Rules (alert.DefaultRules() for the built-in ones, or an engine's
// Rules()) and SLO.
type Options struct {
	// Rules are the alert rules to translate, each into one alerting rule
	// per level.
	Rules []alert.Rule
	// SLO, when set, adds its recording rules and burn-rate alerts.
	SLO *SLO
	// RateWindow is the window of the rates behind pbatunnel's last-minute
	// figures. Prometheus needs two scrapes in it, better four: widen it
	// when targets are scraped less often than every 15s. Zero means
	// DefaultRateWindow.
	RateWindow time.Duration
	// TargetDown adds PbatunnelDown, for a pbatunnel Prometheus cannot
	// scrape: an alert no pbatunnel rule has, since a process that is
	// down judges nothing.
	TargetDown bool
	// RecentWindow is the window of the latency percentiles, as the
	// config file's recent_window. Zero means monitor.DefaultRecentWindow.
	RecentWindow time.Duration
}

// Group names in the file.
const (
	GroupRules = "pbatunnel"
	GroupSLO   = "pbatunnel-slo"
)

// Build translates o into a rules file. A rule over a series /metrics does
// not carry is left out of the groups and listed in File.LeftOut, with why.
// The errors are about o itself: an invalid SLO or window.
func Build(o Options) (*File, error) {
	if o.RateWindow < 0 || o.RateWindow > 0 && o.RateWindow < time.Second {
		return nil, fmt.Errorf("rate window: must be at least 1s, got %s", o.RateWindow)
	}
	if o.RecentWindow < 0 {
		return nil, fmt.Errorf("recent window: must be positive, got %s", o.RecentWindow)
	}
	b := &builder{rate: o.RateWindow, recent: o.RecentWindow, recorded: map[string]string{}}
	if b.rate == 0 {
		b.rate = DefaultRateWindow
	}
	if b.recent == 0 {
		b.recent = monitor.DefaultRecentWindow
	}
	f := &File{}
	var alerts []Rule
	for _, r := range o.Rules {
		rs, err := b.alertRules(r)
		var lo *leftOutError
		if errors.As(err, &lo) {
			f.LeftOut = append(f.LeftOut, LeftOut{Rule: ruleName(r), Metric: r.Metric, Reason: lo.reason})
			continue
		}
		if err != nil {
			return nil, err
		}
		alerts = append(alerts, rs...)
	}
	if o.TargetDown {
		alerts = append(alerts, targetDown())
	}
	if rs := append(b.take(), alerts...); len(rs) > 0 {
		f.Groups = append(f.Groups, Group{Name: GroupRules, Rules: rs})
	}
	if o.SLO != nil {
		if err := o.SLO.Validate(); err != nil {
			return nil, fmt.Errorf("slo: %w", err)
		}
		alerts := b.sloRules(o.SLO.withDefaults())
		if rs := append(b.take(), alerts...); len(rs) > 0 {
			f.Groups = append(f.Groups, Group{Name: GroupSLO, Rules: rs})
		}
	}
	f.rateWindow = b.rate
	return f, nil
}

// builder collects the recording rules the alerts read, each once.
type builder struct {
	rate, recent time.Duration
	records      []Rule            // not yet placed in a group
	recorded     map[string]string // name → expression, of every rule recorded
}

// record adds a recording rule, unless it is there already, and returns
// its name.
func (b *builder) record(name, expr string) string {
	if prev, ok := b.recorded[name]; ok {
		if prev != expr {
			panic(fmt.Sprintf("promrules: recording rule %s has two expressions:\n%s\n%s", name, prev, expr))
		}
		return name
	}
	b.recorded[name] = expr
	b.records = append(b.records, Rule{Record: name, Expr: expr})
	return name
}

// take returns the recording rules added since the last take.
func (b *builder) take() []Rule {
	rs := b.records
	b.records = nil
	return rs
}

func ruleName(r alert.Rule) string {
	if r.Name != "" {
		return r.Name
	}
	return r.Metric
}

// AlertName is the Prometheus alert name of a pbatunnel rule: Pbatunnel and
// the rule's name in camel case, memory_usage giving PbatunnelMemoryUsage.
// The rule's own name is its "rule" label.
func AlertName(rule string) string {
	var sb strings.Builder
	sb.WriteString("Pbatunnel")
	up := true
	for _, c := range rule {
		switch {
		case c < unicode.MaxASCII && (unicode.IsLetter(c) || unicode.IsDigit(c)):
			if up {
				c = unicode.ToUpper(c)
			}
			sb.WriteRune(c)
			up = false
		default:
			up = true
		}
	}
	return sb.String()
}

// alertRules translates r into one alerting rule per level it has.
func (b *builder) alertRules(r alert.Rule) ([]Rule, error) {
	name := ruleName(r)
	f, err := b.series(r.Metric)
	if err != nil {
		return nil, err
	}
	var guard *figure
	if g := r.OnlyIf; g != nil {
		gf, err := b.series(g.Metric)
		if err != nil {
			return nil, leftOut("its guard's series %s: %v", g.Metric, err)
		}
		guard = &gf
	}
	dir, back, op := "above", "below", ">"
	if r.Direction == alert.Below {
		dir, back, op = "below", "above", "<"
	}
	labels := append(append([]string(nil), instanceLabels...), f.by...)
	var out []Rule
	for _, lv := range []struct {
		level alert.Level
		th    *float64
	}{{alert.LevelWarning, r.Warning}, {alert.LevelCritical, r.Critical}} {
		if lv.th == nil {
			continue
		}
		clear, _ := r.ClearLevel(lv.level)
		an := AlertName(name)
		value := paren(f.expr)
		// A firing alert holds until the value is back past its clear
		// level, as in pbatunnel: the second branch keeps it while
		// Prometheus's own ALERTS series says it fires.
		expr := fmt.Sprintf("%s %s %s\nor\n(\n  %s %s %s\n  and on (%s)\n  %s\n)",
			value, op, number(*lv.th), value, op, number(clear), strings.Join(labels, ", "),
			selector("ALERTS", eq("alertname", an), `alertstate="firing"`, eq("rule", name), eq("severity", string(lv.level))))
		if guard != nil {
			expr = fmt.Sprintf("(\n%s\n)\nand %s\n%s >= %s", indent(expr), on(), paren(guard.expr), number(r.OnlyIf.AtLeast))
		}
		desc := fmt.Sprintf("%s has been %s %s", f.name, dir, number(*lv.th))
		if r.For > 0 {
			desc += " for " + promDuration(r.For)
		}
		desc += fmt.Sprintf(" on {{ $labels.instance }}; the alert clears once it is back %s %s", back, number(clear))
		if r.KeepFiringFor > 0 {
			desc += " for " + promDuration(r.KeepFiringFor)
		}
		desc += "."
		if guard != nil {
			desc += fmt.Sprintf(" Judged only while %s is at least %s.", guard.name, number(r.OnlyIf.AtLeast))
		}
		if r.Advice != "" {
			desc += " " + templateText(r.Advice)
		}
		out = append(out, Rule{
			Alert:         an,
			Expr:          expr,
			For:           r.For,
			KeepFiringFor: r.KeepFiringFor,
			// Prometheus expands labels as templates too: the value is
			// the name once expanded, as the ALERTS selector above has it.
			Labels: map[string]string{"severity": string(lv.level), "rule": templateText(name)},
			Annotations: map[string]string{
				"summary": fmt.Sprintf("%s %s on {{ $labels.instance }}: %s is {{ $value | humanize }}, %s the %s threshold %s",
					lv.level, templateText(name), f.name, dir, lv.level, number(*lv.th)),
				"description": desc,
			},
		})
	}
	if len(out) == 0 {
		return nil, leftOut("it has neither a warning nor a critical level")
	}
	out[0].Comment = b.comment(r, name, f, guard)
	return out, nil
}

// comment says, above a rule's first level, which pbatunnel rule it is and
// how Prometheus's judgement of it differs.
func (b *builder) comment(r alert.Rule, name string, f figure, guard *figure) string {
	lines := []string{fmt.Sprintf("pbatunnel rule %s, over %s.", name, r.Metric)}
	if f.note != "" {
		lines = append(lines, "Differs: "+f.note+".")
	}
	if guard != nil && guard.note != "" {
		lines = append(lines, "Its guard "+r.OnlyIf.Metric+" differs: "+guard.note+".")
	}
	if r.Repeat > 0 {
		lines = append(lines, fmt.Sprintf("repeat (%s) is left to Alertmanager, whose repeat_interval re-sends firing alerts.", promDuration(r.Repeat)))
	}
	return strings.Join(lines, "\n")
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

// Names of the alert for a pbatunnel Prometheus cannot scrape.
const (
	RuleTargetDown  = "target_down"
	AlertTargetDown = "PbatunnelDown"
)

// TargetDownFor is how long a pbatunnel must stay unscrapable before
// PbatunnelDown fires: a restart takes seconds; two minutes is no restart.
const TargetDownFor = 2 * time.Minute

// targetDown is the alert no rule of pbatunnel's can give: the process
// is down, or unreachable, so its own alerts resolve in Prometheus and
// nothing else would page. It fires for targets that were pbatunnel in the
// last day (they exported its samples counter), whatever the job is called;
// a target down for longer than that is no longer told from one removed.
func targetDown() Rule {
	return Rule{
		Alert:  AlertTargetDown,
		Expr:   "up == 0\nand on (job, instance)\npresent_over_time(pbatunnel_monitor_samples_total[1d])",
		For:    TargetDownFor,
		Labels: map[string]string{"rule": RuleTargetDown, "severity": "critical"},
		Annotations: map[string]string{
			"summary":     "pbatunnel on {{ $labels.instance }} cannot be scraped",
			"description": "Prometheus has not scraped pbatunnel on {{ $labels.instance }} (job {{ $labels.job }}) for 2m: the process is down, or its address, token or allowed Host refuse the scrape. Its own alerts cannot fire meanwhile.",
		},
		Comment: "No pbatunnel rule: the alert for a pbatunnel that cannot be scraped.",
	}
}
