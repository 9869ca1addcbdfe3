package config

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/httpheader"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/notify"
)

// Alerts is the config file's alerts section: which rules the monitor
// evaluates and where their notifications go. Its zero value means the seven
// built-in rules at their default levels, notified to the log only.
// docs/ALERTS.md explains every key.
type Alerts struct {
	// DefaultRules, when false, starts the monitor without the built-in
	// rules (alert.DefaultRules). Nil means true.
	DefaultRules *bool `yaml:"default_rules"`
	// History bounds the alert transitions kept (alert.Options.History).
	History *int `yaml:"history"`
	// Queue bounds each handler's queue (alert.Options.Queue).
	Queue *int `yaml:"queue"`
	// Log, when false, turns off the log handler. Nil means true.
	Log *bool `yaml:"log"`
	// ExternalURL is where a person can see the alerts, such as the
	// dashboard; receivers link back to it.
	ExternalURL string `yaml:"external_url"`
	// Thresholds sets or turns off built-in rules, by name: the guide's
	// alert_thresholds.
	Thresholds map[string]Threshold `yaml:"thresholds"`
	// Rules are added to the built-in ones; a rule named like a built-in
	// replaces it.
	Rules []Rule `yaml:"rules"`
	// Webhooks each receive every notification.
	Webhooks []Webhook `yaml:"webhooks"`
	// Alertmanager, when set, receives every notification through its API.
	Alertmanager *Alertmanager `yaml:"alertmanager"`
}

// Threshold changes one built-in rule. A level left out keeps the
// built-in's; Disabled removes the rule.
type Threshold struct {
	Warning  *float64 `yaml:"warning"`
	Critical *float64 `yaml:"critical"`
	Disabled bool     `yaml:"disabled"`
}

// Rule is an alert rule as written in the config file; see alert.Rule
// for the meaning of each field.
type Rule struct {
	Name          string   `yaml:"name"`
	Metric        string   `yaml:"metric"`
	Direction     string   `yaml:"direction"`
	Warning       *float64 `yaml:"warning"`
	Critical      *float64 `yaml:"critical"`
	ClearWarning  *float64 `yaml:"clear_warning"`
	ClearCritical *float64 `yaml:"clear_critical"`
	For           Duration `yaml:"for"`
	KeepFiringFor Duration `yaml:"keep_firing_for"`
	Repeat        Duration `yaml:"repeat"`
	OnlyIf        *Guard   `yaml:"only_if"`
	Advice        string   `yaml:"advice"`
}

// Guard limits a rule to samples where another series is at least AtLeast.
type Guard struct {
	Metric string `yaml:"metric"`
	// AtLeast is required: a guard without a minimum is a mistake more
	// often than a wish for "at least 0".
	AtLeast *float64 `yaml:"at_least"`
}

// Webhook is a receiver of Alertmanager's webhook payload.
type Webhook struct {
	URL     string    `yaml:"url"`
	Timeout *Duration `yaml:"timeout"`
	// Retries after a temporary failure; 0 means none, absent means
	// notify.DefaultRetries.
	Retries *int      `yaml:"retries"`
	Backoff *Duration `yaml:"backoff"`
	// Receiver is the payload's "receiver" field.
	Receiver string `yaml:"receiver"`
	// Headers are sent with every request. Their values are secrets as far
	// as pbatunnel is concerned: no message ever shows them.
	Headers map[string]string `yaml:"headers"`
}

// Alertmanager is a Prometheus Alertmanager pushed to through its API.
type Alertmanager struct {
	URL            string    `yaml:"url"` // base URL, without /api/v2/alerts
	Timeout        *Duration `yaml:"timeout"`
	Retries        *int      `yaml:"retries"` // as for Webhook
	Backoff        *Duration `yaml:"backoff"`
	ResendInterval *Duration `yaml:"resend_interval"`
}

// defaultRules reports whether the built-in rules are wanted.
func (a *Alerts) defaultRules() bool { return a.DefaultRules == nil || *a.DefaultRules }

// logEnabled reports whether the log handler is wanted.
func (a *Alerts) logEnabled() bool { return a.Log == nil || *a.Log }

// EngineOptions are the options of the alert engine the section governs:
// NoDefaultRules, History and Queue. Create the engine the plan (Plan) is
// carried out on with them.
func (a *Alerts) EngineOptions() alert.Options {
	o := alert.Options{NoDefaultRules: !a.defaultRules()}
	if a.History != nil {
		o.History = *a.History
	}
	if a.Queue != nil {
		o.Queue = *a.Queue
	}
	return o
}

// An AlertPlan is what the alerts section asks of a monitor, as data:
// the built-in rules to drop and the levels of the others, the rules to
// add, and the handlers to notify, log first, then the webhooks in order,
// then the Alertmanager. internal/app carries it out.
type AlertPlan struct {
	Remove       []string                   // built-in rules disabled
	Levels       map[string]alert.Threshold // built-in rules' levels changed
	Rules        []alert.Rule               // rules added or replacing built-in ones
	Log          bool                       // notify the log
	Webhooks     []Webhook
	Alertmanager *Alertmanager // nil for none
	ExternalURL  string        // the dashboard's address, linked from notifications
}

// Plan checks the section and returns what it asks. An invalid section is
// an error naming every bad key, and no plan.
func (a *Alerts) Plan() (*AlertPlan, error) {
	if errs := a.validate(); len(errs) > 0 {
		a.nameRules(errs)
		return nil, joinFieldErrors(errs)
	}
	p := &AlertPlan{Levels: map[string]alert.Threshold{}, Log: a.logEnabled(), Webhooks: a.Webhooks,
		Alertmanager: a.Alertmanager, ExternalURL: a.ExternalURL}
	for _, name := range slices.Sorted(maps.Keys(a.Thresholds)) {
		t := a.Thresholds[name]
		if t.Disabled {
			p.Remove = append(p.Remove, name)
			continue
		}
		r, _ := t.rule(name)
		if t.Warning != nil || t.Critical != nil {
			p.Levels[name] = alert.Threshold{Warning: *r.Warning, Critical: *r.Critical}
		}
	}
	for _, r := range a.Rules {
		p.Rules = append(p.Rules, r.alertRule())
	}
	return p, nil
}

// monitorRule converts r.
func (r *Rule) alertRule() alert.Rule {
	mr := alert.Rule{
		Name:          r.Name,
		Metric:        r.Metric,
		Direction:     alert.Direction(r.Direction),
		Warning:       r.Warning,
		Critical:      r.Critical,
		ClearWarning:  r.ClearWarning,
		ClearCritical: r.ClearCritical,
		For:           time.Duration(r.For),
		KeepFiringFor: time.Duration(r.KeepFiringFor),
		Repeat:        time.Duration(r.Repeat),
		Advice:        r.Advice,
	}
	if g := r.OnlyIf; g != nil {
		mr.OnlyIf = &alert.Guard{Metric: g.Metric}
		if g.AtLeast != nil {
			mr.OnlyIf.AtLeast = *g.AtLeast
		}
	}
	return mr
}

// name is the rule's name as the monitor will know it.
func (r *Rule) name() string {
	if r.Name != "" {
		return r.Name
	}
	return r.Metric
}

// rule returns the built-in rule called name with t's levels; ok is false
// when there is no such built-in.
func (t Threshold) rule(name string) (r alert.Rule, ok bool) {
	for _, b := range alert.DefaultRules() {
		if b.Name == name {
			r, ok = b, true
			break
		}
	}
	if !ok {
		return r, false
	}
	if t.Warning != nil {
		r.Warning = t.Warning
	}
	if t.Critical != nil {
		r.Critical = t.Critical
	}
	return r, true
}

func builtinNames() []string {
	var names []string
	for _, r := range alert.DefaultRules() {
		names = append(names, r.Name)
	}
	return names
}

// validate reports every problem in the section, with keys under
// "alerts.". unit is the part of the section an error is about (see
// FieldError.unit).
func (a *Alerts) validate() []*FieldError {
	var errs []*FieldError
	add := func(key, unit string, err error) {
		errs = append(errs, &FieldError{Key: "alerts." + key, unit: "alerts." + unit, Err: err})
	}
	if n := a.History; n != nil && *n < 1 {
		add("history", "history", fmt.Errorf("must be at least 1, got %d", *n))
	}
	if n := a.Queue; n != nil && *n < 1 {
		add("queue", "queue", fmt.Errorf("must be at least 1, got %d", *n))
	}
	if a.ExternalURL != "" {
		if err := checkHTTPURL(a.ExternalURL); err != nil {
			add("external_url", "external_url", err)
		}
	}

	if len(a.Thresholds) > 0 && !a.defaultRules() {
		add("thresholds", "thresholds", errors.New("the built-in rules are off (default_rules: false); "+
			"remove the thresholds, or add the rules you want under rules"))
	}
	for _, name := range slices.Sorted(maps.Keys(a.Thresholds)) {
		t := a.Thresholds[name]
		key := "thresholds." + name
		r, ok := t.rule(name)
		switch {
		case !ok:
			add(key, key, fmt.Errorf("no built-in rule %q (have %s)", name, strings.Join(builtinNames(), ", ")))
		case t.Disabled && (t.Warning != nil || t.Critical != nil):
			add(key+".disabled", key, errors.New("a disabled rule has no levels; remove warning and critical, or disabled"))
		default:
			for _, re := range ruleErrors(r) {
				add(key+"."+re.Field, key, errors.New(re.Msg))
			}
		}
	}

	first := map[string]int{} // rule name → index of the first rule with it
	for i, r := range a.Rules {
		unit := fmt.Sprintf("rules[%d]", i)
		for _, re := range ruleErrors(r.alertRule()) {
			add(unit+"."+re.Field, unit, errors.New(re.Msg))
		}
		if g := r.OnlyIf; g != nil && g.AtLeast == nil {
			add(unit+".only_if.at_least", unit, errors.New("required"))
		}
		name := r.name()
		if name == "" {
			continue // Validate has said the metric is missing
		}
		if j, dup := first[name]; dup {
			msg := fmt.Sprintf("duplicate rule name %q: rules[%d] has it too", name, j)
			if r.Name == "" {
				msg = fmt.Sprintf("an unnamed rule is named after its metric, and rules[%d] already uses %q; give this one a name", j, name)
			}
			add(unit+".name", unit, errors.New(msg))
			continue
		}
		first[name] = i
		if _, ok := a.Thresholds[name]; ok {
			add(unit+".name", unit, fmt.Errorf("%q is also set under thresholds; a rule named like a built-in "+
				"replaces it, so set its levels here and remove thresholds.%s", name, name))
		}
	}

	// A notifier's settings are independent of each other, so each is a
	// unit of its own: a bad timeout does not hide a bad URL.
	field := func(key string, err error) {
		if err != nil {
			add(key, key, err)
		}
	}
	for i, w := range a.Webhooks {
		unit := fmt.Sprintf("webhooks[%d]", i)
		if err := checkHTTPURL(w.URL); err != nil {
			field(unit+".url", err)
		} else {
			field(unit+".url", (&notify.Webhook{URL: w.URL}).Validate()) // redacted by package notify
		}
		checkDelivery(field, unit, w.Timeout, w.Retries, w.Backoff)
		for _, name := range slices.Sorted(maps.Keys(w.Headers)) {
			field(unit+".headers."+name, checkHeader(name, w.Headers[name]))
		}
	}

	if am := a.Alertmanager; am != nil {
		const unit = "alertmanager"
		if err := checkHTTPURL(am.URL); err != nil {
			field(unit+".url", err)
		} else if err := (&notify.Alertmanager{URL: am.URL}).Validate(); err != nil {
			field(unit+".url", err)
		} else if u, _ := url.Parse(am.URL); strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v2/alerts") {
			field(unit+".url", errors.New("give Alertmanager's base URL, such as http://127.0.0.1:9093: "+
				"/api/v2/alerts is added to it"))
		}
		checkDelivery(field, unit, am.Timeout, am.Retries, am.Backoff)
		field(unit+".resend_interval", positive(am.ResendInterval))
	}
	return errs
}

// ruleErrors returns every problem Rule.Validate finds in r. Validate stops
// at the first; to report them all at once, as the rest of the file is, the
// offending field is set aside and r checked again, as long as setting it
// aside cannot make a later complaint spurious.
func ruleErrors(r alert.Rule) []*alert.RuleError {
	var out []*alert.RuleError
	seen := map[string]bool{}
	for {
		var re *alert.RuleError
		err := r.Validate()
		if err == nil {
			return out
		}
		if !errors.As(err, &re) {
			return append(out, &alert.RuleError{Rule: r.Name, Field: "name", Msg: err.Error()})
		}
		if seen[re.Field] {
			return out // setting it aside did not help; the first message stands
		}
		seen[re.Field] = true
		out = append(out, re)
		switch re.Field {
		case "metric":
			r.Metric = monitor.SeriesMemoryUsage
		case "warning":
			r.Warning, r.ClearWarning = nil, nil
		case "critical":
			r.Critical, r.ClearCritical = nil, nil
		case "clear_warning":
			r.ClearWarning = nil
		case "clear_critical":
			r.ClearCritical = nil
		case "for":
			r.For = 0
		case "keep_firing_for":
			r.KeepFiringFor = 0
		case "repeat":
			r.Repeat = 0
		case "only_if.metric", "only_if.at_least":
			r.OnlyIf = nil
		default:
			// The direction, say: every level comparison depends on it.
			return out
		}
	}
}

// checkDelivery checks the settings webhooks and the Alertmanager share.
func checkDelivery(field func(key string, err error), unit string, timeout *Duration, retries *int, backoff *Duration) {
	field(unit+".timeout", positive(timeout))
	if n := retries; n != nil && *n < 0 {
		field(unit+".retries", fmt.Errorf("must be 0 or more, got %d", *n))
	}
	field(unit+".backoff", positive(backoff))
}

// checkHTTPURL reports whether raw is an absolute http or https URL. Its
// messages never quote raw, which may carry a password or a token.
func checkHTTPURL(raw string) error {
	if raw == "" {
		return errors.New("required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a valid URL")
	}
	switch {
	case u.Scheme == "":
		return errors.New("want an absolute http or https URL, such as https://hooks.example.com/pbatunnel")
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("scheme %q is not http or https", u.Scheme)
	case u.Host == "":
		return errors.New("no host")
	}
	return nil
}

// checkHeader reports whether name and value can be sent as an HTTP
// header. The value is never quoted.
func checkHeader(name, value string) error {
	if name == "" {
		return errors.New("empty header name")
	}
	if err := httpheader.CheckName(name); err != nil {
		return err
	}
	return httpheader.CheckValue(name, value)
}
