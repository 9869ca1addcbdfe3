package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// dashboardFile is the Grafana dashboard deploy/compose.yaml provisions,
// from this package's directory.
var dashboardFile = filepath.Join("..", "..", "deploy", "grafana", "pbatunnel.json")

// dashboardUID is the dashboard's fixed uid: docs/SCALING.md links to
// /d/pbatunnel-overview, and provisioning replaces the dashboard with the
// same uid instead of adding a copy.
const dashboardUID = "pbatunnel-overview"

// The parts of Grafana's dashboard JSON model the tests read.
type grafanaDashboard struct {
	UID           string
	Title         string
	SchemaVersion int
	Templating    struct{ List []grafanaVariable }
	Panels        []grafanaPanel
}

type grafanaVariable struct {
	Type, Name, Definition string
	Query                  json.RawMessage
	Datasource             *grafanaDatasource
	Multi, IncludeAll      bool
	AllValue               string
}

type grafanaPanel struct {
	ID                       int
	Type, Title, Description string
	GridPos                  *struct{ H, W, X, Y int }
	Targets                  []grafanaTarget
	Panels                   []grafanaPanel // a collapsed row's
}

type grafanaTarget struct {
	RefID          string `json:"refId"`
	Expr           string
	Datasource     *grafanaDatasource
	Instant, Range bool
}

type grafanaDatasource struct{ Type, UID string }

// datasourceRef is how every panel, target and query variable names its
// data source: through the dashboard's "datasource" variable, never a uid
// of one Grafana's.
const datasourceRef = "${datasource}"

// queryVariables are the dashboard's variables that Prometheus answers, and
// the label each offers.
var queryVariables = map[string]string{"job": "job", "instance": "instance", "tool": "gen_ai_tool_name"}

// intermittentSeries are the series that exist only while something
// holds, and what. A stat panel reduces a range query to one figure, the
// last point in the time range however old, so over these a stat would
// show what held an hour ago as if it held now: it must query the instant.
var intermittentSeries = map[string]string{
	"pbatunnel_alerts_firing": "exported only while an alert fires",
	"ALERTS":                  "there only while an alert is pending or firing",
}

// builtinVariables are Grafana's own variables the queries may use.
var builtinVariables = []string{"__rate_interval", "__range", "__interval"}

// loadDashboard reads and decodes the dashboard, and returns its raw JSON
// too, for the checks that walk all of it.
func loadDashboard(t *testing.T) (grafanaDashboard, any) {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d grafanaDashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	var raw any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	return d, raw
}

// allPanels returns the panels, those inside rows included.
func (d grafanaDashboard) allPanels() []grafanaPanel {
	var out []grafanaPanel
	for _, p := range d.Panels {
		out = append(out, p)
		out = append(out, p.Panels...)
	}
	return out
}

// varRef matches the ways Grafana lets a query name a variable: $name,
// ${name}, ${name:format} and [[name]].
var varRef = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]`)

// substitute replaces every variable in expr with its value in vals, as
// Grafana does before it sends a query; a variable vals lacks is an error.
func substitute(expr string, vals map[string]string) (string, error) {
	var missing []string
	out := varRef.ReplaceAllStringFunc(expr, func(ref string) string {
		m := varRef.FindStringSubmatch(ref)
		name := m[1] + m[2] + m[3]
		v, ok := vals[name]
		if !ok {
			missing = append(missing, ref)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("unknown variables %q", missing)
	}
	return out, nil
}

// regexValue is the value Grafana gives a multi-value variable in a
// Prometheus query: each value escaped for a regular expression inside a
// PromQL string (hence the doubled backslash), several in a group of
// alternatives.
func regexValue(values ...string) string {
	esc := make([]string, len(values))
	for i, v := range values {
		esc[i] = strings.ReplaceAll(regexp.QuoteMeta(v), `\`, `\\`)
	}
	if len(esc) == 1 {
		return esc[0]
	}
	return "(" + strings.Join(esc, "|") + ")"
}

// variableQuery is the query of a query variable: a string in older
// dashboards, the query field of an object in current ones.
func variableQuery(v grafanaVariable) string {
	var q struct{ Query string }
	if json.Unmarshal(v.Query, &q) == nil {
		return q.Query
	}
	var s string
	_ = json.Unmarshal(v.Query, &s)
	return s
}

// recordedWindow matches the window in the name of a recording rule of
// deploy/prometheus/pbatunnel.rules.yml, such as ratio_rate1h.
var recordedWindow = regexp.MustCompile(`:ratio_rate(\w+)`)

// labelValuesQuery parses a variable's label_values(selector, label).
var labelValuesQuery = regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)

// TestGrafanaDashboardStructure checks the dashboard JSON without a
// Grafana: a fixed uid, a current schema, no data source uid of anyone's
// Grafana, the variables, and panels Grafana can lay out and query.
func TestGrafanaDashboardStructure(t *testing.T) {
	d, raw := loadDashboard(t)
	if d.UID != dashboardUID || d.Title == "" {
		t.Errorf("uid %q title %q, want uid %q and a title", d.UID, d.Title, dashboardUID)
	}
	// 41 is Grafana 12.0's, 42 the last of the classic model (Grafana 12.2
	// and later).
	if d.SchemaVersion < 41 {
		t.Errorf("schemaVersion %d, want 41 or later", d.SchemaVersion)
	}
	checkDatasources(t, raw, "")

	vars := map[string]bool{}
	for _, b := range builtinVariables {
		vars[b] = true
	}
	for _, v := range d.Templating.List {
		if vars[v.Name] {
			t.Errorf("variable %q defined twice", v.Name)
		}
		vars[v.Name] = true
		switch label, ok := queryVariables[v.Name]; {
		case v.Name == "datasource":
			var q string
			if v.Type != "datasource" || json.Unmarshal(v.Query, &q) != nil || q != "prometheus" {
				t.Errorf("variable datasource: type %q query %s, want a datasource variable of prometheus", v.Type, v.Query)
			}
		case ok:
			m := labelValuesQuery.FindStringSubmatch(v.Definition)
			switch {
			case v.Type != "query" || !v.Multi || !v.IncludeAll:
				t.Errorf("variable %s: type %q multi %v includeAll %v, want a query variable, multi, with All", v.Name, v.Type, v.Multi, v.IncludeAll)
			case m == nil || m[2] != label:
				t.Errorf("variable %s: definition %q, want label_values(..., %s)", v.Name, v.Definition, label)
			case !strings.HasPrefix(m[1], "pbatunnel_") && !strings.HasPrefix(m[1], "mcp_"):
				t.Errorf("variable %s: label_values over %q, want a pbatunnel metric", v.Name, m[1])
			case variableQuery(v) != v.Definition:
				t.Errorf("variable %s: query %s differs from its definition %q", v.Name, v.Query, v.Definition)
			}
		default:
			t.Errorf("unexpected variable %q", v.Name)
		}
	}
	for _, name := range []string{"datasource", "job", "instance", "tool"} {
		if !vars[name] {
			t.Errorf("variable %q missing", name)
		}
	}

	checkLayout(t, d.Panels)
	ids := map[int]string{}
	for _, p := range d.allPanels() {
		if p.ID <= 0 || ids[p.ID] != "" {
			t.Errorf("panel %q: id %d is not positive or not unique (also %q)", p.Title, p.ID, ids[p.ID])
		}
		ids[p.ID] = p.Title
		if p.GridPos == nil {
			t.Errorf("panel %q has no gridPos", p.Title)
		}
		if p.Type != "row" {
			checkPanel(t, p, vars)
		}
	}
}

// checkPanel checks one panel's title, description and targets.
func checkPanel(t *testing.T, p grafanaPanel, vars map[string]bool) {
	t.Helper()
	if p.Title == "" || p.Description == "" {
		t.Errorf("panel %d: title %q, description %q: want both", p.ID, p.Title, p.Description)
	}
	if len(p.Targets) == 0 {
		t.Errorf("panel %q has no targets", p.Title)
	}
	refs := map[string]bool{}
	var all strings.Builder
	for _, tg := range p.Targets {
		if tg.RefID == "" || refs[tg.RefID] || tg.Expr == "" {
			t.Errorf("panel %q: target refId %q (unique?) expr %q: want both, refId unique", p.Title, tg.RefID, tg.Expr)
		}
		refs[tg.RefID] = true
		for series, what := range intermittentSeries {
			if p.Type == "stat" && regexp.MustCompile(`\b`+series+`\b`).MatchString(tg.Expr) && (!tg.Instant || tg.Range) {
				t.Errorf("stat panel %q target %s reads %s, %s, over a range: it would show the last time it held as now; want an instant query",
					p.Title, tg.RefID, series, what)
			}
		}
		if tg.Datasource == nil || tg.Datasource.UID != datasourceRef {
			t.Errorf("panel %q target %s: datasource %+v, want uid %s", p.Title, tg.RefID, tg.Datasource, datasourceRef)
		}
		for _, m := range varRef.FindAllStringSubmatch(tg.Expr, -1) {
			if name := m[1] + m[2] + m[3]; !vars[name] {
				t.Errorf("panel %q target %s uses %s, which is no variable", p.Title, tg.RefID, m[0])
			}
		}
		all.WriteString(tg.Expr)
	}
	// The title and the description say what a point is.
	exprs := all.String()
	var windows []string
	for _, m := range recordedWindow.FindAllStringSubmatch(exprs, -1) {
		if !slices.Contains(windows, m[1]) {
			windows = append(windows, m[1])
		}
	}
	switch {
	case len(windows) > 0:
		if over := "over " + strings.Join(windows, ", "); !strings.Contains(p.Title, over) || !strings.Contains(p.Description, "recording rule") {
			t.Errorf("panel %q: its queries read recording rules over %v: want %q in the title and \"recording rule\" in the description", p.Title, windows, over)
		}
	case strings.Contains(exprs, "$__rate_interval"):
		if !strings.Contains(p.Title, "over rate interval") || !strings.Contains(p.Description, "$__rate_interval") {
			t.Errorf("panel %q: its queries use $__rate_interval: want \"over rate interval\" in the title and $__rate_interval in the description", p.Title)
		}
	case strings.Contains(exprs, "$__range"):
		if !strings.Contains(p.Title, "over time range") || !strings.Contains(p.Description, "$__range") {
			t.Errorf("panel %q: its queries use $__range: want \"over time range\" in the title and $__range in the description", p.Title)
		}
	case !strings.Contains(p.Title, "instant") || !strings.Contains(p.Description, "instant"):
		t.Errorf("panel %q: its queries have no window: want \"instant\" in the title and the description", p.Title)
	}
}

// checkLayout checks that every panel fits the 24-column grid and that no
// two overlap.
func checkLayout(t *testing.T, panels []grafanaPanel) {
	t.Helper()
	for i, p := range panels {
		g := p.GridPos
		if g == nil {
			continue // reported by the caller
		}
		if g.W < 1 || g.H < 1 || g.X < 0 || g.Y < 0 || g.X+g.W > 24 {
			t.Errorf("panel %q: gridPos %+v does not fit the 24-column grid", p.Title, *g)
		}
		for _, q := range panels[:i] {
			if h := q.GridPos; h != nil && g.X < h.X+h.W && h.X < g.X+g.W && g.Y < h.Y+h.H && h.Y < g.Y+g.H {
				t.Errorf("panels %q %+v and %q %+v overlap", q.Title, *h, p.Title, *g)
			}
		}
	}
}

// checkDatasources walks the JSON: every data source is the variable's,
// but for Grafana's own annotations.
func checkDatasources(t *testing.T, v any, path string) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			p := path + "." + k
			if k != "datasource" {
				checkDatasources(t, child, p)
				continue
			}
			ds, ok := child.(map[string]any)
			switch {
			case !ok:
				t.Errorf("%s = %v: want an object {type, uid}", p, child)
			case ds["type"] == "grafana" && strings.HasPrefix(path, ".annotations"):
			case ds["type"] != "prometheus" || ds["uid"] != datasourceRef:
				t.Errorf("%s = %v: want {type: prometheus, uid: %s}", p, ds, datasourceRef)
			}
		}
	case []any:
		for i, child := range v {
			checkDatasources(t, child, fmt.Sprintf("%s[%d]", path, i))
		}
	}
}

func TestSubstitute(t *testing.T) {
	vals := map[string]string{"job": ".*", "tool": regexValue("a.b", "c"), "__rate_interval": "4s", "__range": "60s"}
	tests := []struct {
		expr, want, err string
	}{
		{expr: `rate(x{job=~"$job"}[$__rate_interval])`, want: `rate(x{job=~".*"}[4s])`},
		{expr: `x{tool=~"${tool}"}[${__range}]`, want: `x{tool=~"(a\\.b|c)"}[60s]`},
		{expr: `x{tool=~"${tool:regex}", job=~"[[job]]"}`, want: `x{tool=~"(a\\.b|c)", job=~".*"}`},
		{expr: `x[$__interval]`, err: `unknown variables ["$__interval"]`},
		{expr: `x`, want: `x`},
	}
	for _, tt := range tests {
		got, err := substitute(tt.expr, vals)
		if got != tt.want || (err == nil) != (tt.err == "") || err != nil && err.Error() != tt.err {
			t.Errorf("substitute(%q) = %q, %v; want %q, %q", tt.expr, got, err, tt.want, tt.err)
		}
	}
	if got := regexValue("127.0.0.1:80"); got != `127\\.0\\.0\\.1:80` {
		t.Errorf("regexValue(127.0.0.1:80) = %q", got)
	}
	for expr, want := range map[string]bool{
		`sum(instance:pbatunnel_tool_errors:ratio_rate5m{job=~"$job"})`:           true,
		`pbatunnel:slo_budget_remaining`:                                          true,
		`{__name__=~"instance:pbatunnel_tool_calls_slower_than_.+:ratio_rate5m"}`: true,
		`max(ALERTS{alertname="X"})`:                                              true,
		`up{instance="127.0.0.1:9090", name=~"a:b"}`:                              false,
		`rate(x{a="\"q:r\""}[5m])`:                                                false,
		`x{a="ALERTS"}`:                                                           false,
	} {
		if got := needsRules(expr); got != want {
			t.Errorf("needsRules(%s) = %v, want %v", expr, got, want)
		}
	}
}
