package promrules

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Names and label values of pbatunnel's /metrics that the rules read
// (dashboard/metrics.go and metrics_host.go write them).
const (
	opDuration    = "mcp_server_operation_duration_seconds"
	opCount       = opDuration + "_count"
	opSum         = opDuration + "_sum"
	opBucket      = opDuration + "_bucket"
	toolCallsOnly = `mcp_method_name="tools/call"`
	failed        = `error_type!=""`
	toolLabel     = "gen_ai_tool_name"
	methodLabel   = "mcp_method_name"
	nameLabel     = "name"
	// samplesTotal is a series every pbatunnel exports and nothing else
	// does: joined with it, a generic family (process_cpu_seconds_total,
	// go_goroutines) is limited to pbatunnel's targets.
	samplesTotal = "pbatunnel_monitor_samples_total"
)

// instanceLabels are the labels every aggregate keeps, so that one rules
// file serves any number of pbatunnel hosts.
var instanceLabels = []string{"job", "instance"}

// selector writes a vector selector: metric{m1,m2}.
func selector(metric string, matchers ...string) string {
	var ms []string
	for _, m := range matchers {
		if m != "" {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return metric
	}
	return metric + "{" + strings.Join(ms, ", ") + "}"
}

// eq and re write label matchers with the value quoted as PromQL reads
// it (Go's escapes).
func eq(label, value string) string { return label + "=" + strconv.Quote(value) }
func re(label, value string) string { return label + "=~" + strconv.Quote(value) }

// globMatcher matches label against a pattern in which '*' stands for any
// run of characters, as alert rule patterns are written.
func globMatcher(label, glob string) string {
	if !strings.Contains(glob, "*") {
		return eq(label, glob)
	}
	parts := strings.Split(glob, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return re(label, strings.Join(parts, ".*"))
}

// leMatcher selects the bucket whose upper bound is b. client_golang
// writes an integral bound as "1" and Prometheus 3 stores it as "1.0", so
// both spellings are matched; other bounds are written alike by both.
func leMatcher(b time.Duration) string {
	s := number(b.Seconds())
	if !strings.ContainsAny(s, ".e") {
		return re("le", regexp.QuoteMeta(s)+`|`+regexp.QuoteMeta(s+".0"))
	}
	return eq("le", s)
}

// by writes an aggregation's grouping: "by (job, instance, extra...)".
func by(extra ...string) string {
	return "by (" + strings.Join(append(append([]string(nil), instanceLabels...), extra...), ", ") + ")"
}

// on writes a vector matching clause over the instance labels and extra.
func on(extra ...string) string {
	return "on (" + strings.Join(append(append([]string(nil), instanceLabels...), extra...), ", ") + ")"
}

// sumRate writes sum by (job, instance, extra) (rate(sel[w])).
func sumRate(sel string, w time.Duration, extra ...string) string {
	return fmt.Sprintf("sum %s (rate(%s[%s]))", by(extra...), sel, promDuration(w))
}

// binop writes a op b, on three lines when one would be long.
func binop(a, op, b string) string {
	if len(a)+len(op)+len(b)+2 <= 100 && !strings.Contains(a+b, "\n") {
		return a + " " + op + " " + b
	}
	return a + "\n" + op + "\n" + b
}

var simpleExpr = regexp.MustCompile(`^[A-Za-z_:][A-Za-z0-9_:]*(\{[^{}]*\})?$`)

// paren wraps expr in parentheses unless it is a plain selector, so that
// it can be an operand of any operator.
func paren(expr string) string {
	if simpleExpr.MatchString(expr) || isNumber(expr) {
		return expr
	}
	return "(" + expr + ")"
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// number writes v in decimal with at most 12 significant digits, so that
// float noise (1 - 0.99 = 0.010000000000000009) does not reach the file.
func number(v float64) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 12, 64), 64)
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// promDuration writes d as Prometheus does, in the largest unit that
// divides it: 30d, 6h, 90s, 250ms.
func promDuration(d time.Duration) string {
	day := 24 * time.Hour
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{day, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}} {
		if d >= u.d && d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.name
		}
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

// humanDuration writes d for a person, in days and hours, or hours and
// minutes, or minutes: "2d 2h", "5h", "50m".
func humanDuration(d time.Duration) string {
	d = d.Round(time.Minute)
	day := 24 * time.Hour
	switch {
	case d >= day:
		days, hours := d/day, (d%day).Round(time.Hour)/time.Hour
		if hours == 24 {
			days, hours = days+1, 0
		}
		if hours == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd %dh", days, hours)
	case d >= time.Hour:
		h, m := d/time.Hour, (d%time.Hour)/time.Minute
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh %dm", h, m)
	}
	return fmt.Sprintf("%dm", d/time.Minute)
}

// templateText makes s safe inside a Prometheus annotation template, where
// "{{" would start an action: advice and rule names are the user's text.
func templateText(s string) string {
	return strings.ReplaceAll(s, "{{", `{{ "{{" }}`)
}
