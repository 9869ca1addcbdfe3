package promrules

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// A File is a Prometheus rules file: groups of recording and alerting
// rules, and the pbatunnel rules that could not be written, with why.
type File struct {
	Groups  []Group
	LeftOut []LeftOut

	rateWindow time.Duration
}

// A Group is a rule group; Prometheus evaluates its rules in order, so the
// recording rules come before the alerts that read them.
type Group struct {
	Name  string
	Rules []Rule
}

// A Rule is a recording rule (Record set) or an alerting rule (Alert set).
type Rule struct {
	Record        string
	Alert         string
	Expr          string
	For           time.Duration
	KeepFiringFor time.Duration
	Labels        map[string]string
	Annotations   map[string]string
	// Comment is written above the rule.
	Comment string
}

// A LeftOut is a pbatunnel rule with no faithful PromQL form.
type LeftOut struct {
	Rule   string // the rule's name
	Metric string // its series
	Reason string
}

// Counts returns the number of alerting and recording rules in f.
func (f *File) Counts() (alerting, recording int) {
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				alerting++
			} else {
				recording++
			}
		}
	}
	return alerting, recording
}

// inhibitRules is the Alertmanager configuration that keeps a warning
// from being sent while the critical alert of the same rule, instance and
// series fires. The file's header gives it, and docs/ALERTS.md.
//
// equal holds, beside alertname, job and instance, every label a figure
// keeps apart (per tool, method or custom metric): without them a pattern
// rule's critical alert for one tool would inhibit its warning for
// another. Alertmanager takes a label both alerts lack as equal.
var inhibitRules = []string{
	"inhibit_rules:",
	`  - source_matchers: [severity="critical"]`,
	`    target_matchers: [severity="warning"]`,
	"    equal: [alertname, " + strings.Join(append(append([]string(nil), instanceLabels...), toolLabel, methodLabel, nameLabel), ", ") + "]",
}

// header explains the file to whoever opens it.
func (f *File) header() string {
	lines := []string{
		"Prometheus rules for pbatunnel, written by `pbatunnel alerts export --format prometheus-rules`:",
		"regenerate the file after changing the config file rather than edit it. docs/ALERTS.md",
		"explains it.",
		"",
		"Each pbatunnel alert rule is one alerting rule per level (labels severity and rule) over the",
		"series pbatunnel serves on /metrics. Aggregates keep job and instance, so that one file serves",
		"every pbatunnel scraped. As in pbatunnel, a firing alert holds until its value is back past",
		"the clear level: each alert reads its own ALERTS series for that. pbatunnel's last-minute",
		fmt.Sprintf("figures are rates over %s: scrape at least every %s.",
			promDuration(f.rateWindow), promDuration(f.rateWindow/4)),
		"",
		"When a critical alert fires, its warning fires too: inhibit the warning in Alertmanager.",
		"The labels in equal tell apart the tools, methods and custom metrics a pattern rule alerts",
		"on, so that a critical alert inhibits its own warning and no other:",
		"",
	}
	for _, l := range inhibitRules {
		lines = append(lines, "  "+l)
	}
	if len(f.LeftOut) > 0 {
		lines = append(lines, "", "Left out, having no faithful form over /metrics:")
		for _, l := range f.LeftOut {
			lines = append(lines, fmt.Sprintf("- rule %s (%s): %s.", l.Rule, l.Metric, l.Reason))
		}
	}
	return wrap(lines)
}

// The file's YAML, as Prometheus reads it (rulefmt).
type (
	yamlFile struct {
		Groups []yamlGroup `yaml:"groups"`
	}
	yamlGroup struct {
		Name  string     `yaml:"name"`
		Rules []yamlRule `yaml:"rules"`
	}
	yamlRule struct {
		Record        string            `yaml:"record,omitempty"`
		Alert         string            `yaml:"alert,omitempty"`
		Expr          string            `yaml:"expr"`
		For           string            `yaml:"for,omitempty"`
		KeepFiringFor string            `yaml:"keep_firing_for,omitempty"`
		Labels        map[string]string `yaml:"labels,omitempty"`
		Annotations   map[string]string `yaml:"annotations,omitempty"`
	}
)

// WriteTo writes f as YAML, comments included. The output depends on f
// alone, so that a file kept in a repository can be compared with a
// fresh one.
func (f *File) WriteTo(w io.Writer) (int64, error) {
	y := yamlFile{Groups: []yamlGroup{}}
	for _, g := range f.Groups {
		yg := yamlGroup{Name: g.Name}
		for _, r := range g.Rules {
			yr := yamlRule{Record: r.Record, Alert: r.Alert, Expr: r.Expr, Labels: r.Labels, Annotations: r.Annotations}
			if r.For > 0 {
				yr.For = promDuration(r.For)
			}
			if r.KeepFiringFor > 0 {
				yr.KeepFiringFor = promDuration(r.KeepFiringFor)
			}
			yg.Rules = append(yg.Rules, yr)
		}
		y.Groups = append(y.Groups, yg)
	}
	var doc yaml.Node
	if err := doc.Encode(y); err != nil {
		return 0, fmt.Errorf("encoding rules: %w", err)
	}
	doc.HeadComment = f.header()
	// doc is a mapping: "groups", then the sequence of groups, each a
	// mapping whose fourth node is the sequence of rules.
	groups := doc.Content[1].Content
	for i, g := range f.Groups {
		rules := groups[i].Content[3].Content
		for j, r := range g.Rules {
			if r.Comment != "" {
				rules[j].HeadComment = wrap(strings.Split(r.Comment, "\n"))
			}
		}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return 0, fmt.Errorf("encoding rules: %w", err)
	}
	if err := enc.Close(); err != nil {
		return 0, fmt.Errorf("encoding rules: %w", err)
	}
	n, err := w.Write(buf.Bytes())
	return int64(n), err
}

// wrap writes lines as a YAML comment, breaking those longer than 96
// characters at spaces (continuations indented under a list item's text).
// An empty line is a bare "#", so that the comment stays one block.
func wrap(lines []string) string {
	const width = 96
	var out []string
	for _, l := range lines {
		cont := ""
		if strings.HasPrefix(l, "- ") {
			cont = "  "
		}
		for len(l) > width {
			i := strings.LastIndexByte(l[:width], ' ')
			if i <= len(cont) {
				break
			}
			out = append(out, "# "+l[:i])
			l = cont + l[i+1:]
		}
		out = append(out, strings.TrimSpace("# "+l))
	}
	return strings.Join(out, "\n")
}
