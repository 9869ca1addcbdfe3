package notify

import (
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
)

// Source is the value of the "source" label on every alert this package
// sends, so receivers can route pbatunnel's alerts apart from Prometheus's.
const Source = "pbatunnel"

// hostname names this machine in the "instance" label. It is read once: it
// identifies the alert, so it must not change while the process lives.
var hostname = sync.OnceValue(func() string {
	h, err := os.Hostname()
	if err != nil {
		return "" // an empty label is left out, as Alertmanager does
	}
	return h
})

// Labels returns the labels that identify a's alert instance to
// Alertmanager and webhook receivers: alertname (the rule), metric (the
// series), severity (the level; for a resolved alert the level it had while
// firing, so the resolution matches the alert it ends), instance (this
// host), source ("pbatunnel"), and synthetic="true" for a test alert, which
// keeps a test from merging with a real alert. Empty values are left out.
//
// The map is new on every call.
func Labels(a alert.Alert) map[string]string {
	return labelsAt(a, severity(a))
}

func severity(a alert.Alert) alert.Level {
	if a.Transition == alert.TransitionResolved && a.Previous != alert.LevelNone {
		return a.Previous
	}
	return a.Level
}

func labelsAt(a alert.Alert, sev alert.Level) map[string]string {
	ls := make(map[string]string, 6)
	set := func(name, value string) {
		if value != "" {
			// Alertmanager rejects label values that are not UTF-8.
			ls[name] = strings.ToValidUTF8(value, "\uFFFD")
		}
	}
	set("alertname", a.Rule)
	set("metric", a.Metric)
	set("severity", string(sev))
	set("instance", hostname())
	set("source", Source)
	if a.Synthetic {
		set("synthetic", "true")
	}
	return ls
}

// Annotations returns the annotations that describe a: summary (its
// message), description (the value against the threshold, the direction
// and the transition) and, when the rule gives one, advice.
//
// The map is new on every call.
func Annotations(a alert.Alert) map[string]string {
	summary := a.Message
	if summary == "" {
		summary = fmt.Sprintf("%s %s on %s", a.Rule, a.Transition, a.Metric)
	}
	as := map[string]string{
		"summary":     strings.ToValidUTF8(summary, "\uFFFD"),
		"description": strings.ToValidUTF8(describe(a), "\uFFFD"),
	}
	if a.Advice != "" {
		as["advice"] = strings.ToValidUTF8(a.Advice, "\uFFFD")
	}
	return as
}

// describe says in one line what the figures were, e.g. "value 93.2 is
// above the critical threshold 90; transition: escalated from warning".
func describe(a alert.Alert) string {
	dir := a.Direction
	if dir == "" {
		dir = alert.Above
	}
	th := formatNumber(a.Threshold)
	var b strings.Builder
	switch {
	case !a.Value.OK:
		reason := a.Value.Reason
		if reason == "" {
			reason = "no reason given"
		}
		fmt.Fprintf(&b, "value unavailable (%s); threshold %s, alerting %s it", reason, th, dir)
	case a.Transition == alert.TransitionResolved:
		back := alert.Below
		if dir == alert.Below {
			back = alert.Above
		}
		fmt.Fprintf(&b, "value %s is back %s the clear level %s", formatNumber(a.Value.Value), back, th)
	default:
		fmt.Fprintf(&b, "value %s is %s the %s threshold %s", formatNumber(a.Value.Value), dir, a.Level, th)
	}
	fmt.Fprintf(&b, "; transition: %s", a.Transition)
	if a.Previous != alert.LevelNone && a.Previous != a.Level {
		fmt.Fprintf(&b, " from %s", a.Previous)
	}
	return b.String()
}

// formatNumber writes v with at most two decimals (three significant digits
// below 1), without trailing zeros: 93.2, 90, 0.0042.
func formatNumber(v float64) string {
	if v != 0 && math.Abs(v) < 1 {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	s := strconv.FormatFloat(v, 'f', 2, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// fingerprint hashes a label set the way Alertmanager fingerprints alerts
// (64-bit FNV-1a over the names in order, each name and value followed by
// a 0xff byte, as 16 hex digits), so a receiver sees the same fingerprint
// whether an alert comes from our webhook or through Alertmanager.
func fingerprint(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for name := range labels {
		names = append(names, name)
	}
	slices.Sort(names)
	h := fnv.New64a()
	sep := []byte{0xff}
	for _, name := range names {
		h.Write([]byte(name))
		h.Write(sep)
		h.Write([]byte(labels[name]))
		h.Write(sep)
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

// A notice is one alert instance as Alertmanager models it: the labels that
// identify it and the interval it is active.
type notice struct {
	labels      map[string]string
	annotations map[string]string
	fingerprint string
	startsAt    time.Time
	endsAt      time.Time // zero while firing
}

func (n notice) resolved() bool { return !n.endsAt.IsZero() }

// notices returns the alert instances a changes. Severity is a label, so
// Alertmanager sees a warning that escalates to critical as two alerts: the
// escalation resolves the warning instance and fires the critical one, and
// a de-escalation does the reverse. Anything else is one instance, firing
// or resolved.
func notices(a alert.Alert, now time.Time) []notice {
	at := a.At
	if at.IsZero() {
		at = now
	}
	startsAt := a.StartsAt
	if startsAt.IsZero() {
		startsAt = at
	}
	annotations := Annotations(a)
	mk := func(sev alert.Level, endsAt time.Time) notice {
		ls := labelsAt(a, sev)
		if !endsAt.IsZero() && endsAt.Before(startsAt) {
			endsAt = startsAt // Alertmanager refuses an end before the start
		}
		return notice{
			labels:      ls,
			annotations: annotations,
			fingerprint: fingerprint(ls),
			startsAt:    startsAt.UTC(),
			endsAt:      endsAt.UTC(),
		}
	}
	if a.Transition == alert.TransitionResolved {
		endsAt := a.EndsAt
		if endsAt.IsZero() {
			endsAt = at
		}
		return []notice{mk(severity(a), endsAt)}
	}
	var out []notice
	if a.Previous != alert.LevelNone && a.Previous != a.Level {
		out = append(out, mk(a.Previous, at))
	}
	return append(out, mk(a.Level, time.Time{}))
}
