package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// alertsDoc is docs/ALERTS.md, from this package's directory.
var alertsDoc = filepath.Join("..", "..", "docs", "ALERTS.md")

// docInhibitBlock matches the YAML block of docs/ALERTS.md that holds the
// inhibit rule.
var docInhibitBlock = regexp.MustCompile("(?s)```yaml\n(inhibit_rules:\n.*?)```")

// headerInhibitBlock returns the inhibit rule the rules file's header
// gives, its comment marks taken off.
func headerInhibitBlock(t *testing.T, rules string) string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(rules, "\n") {
		switch {
		case l == "#   inhibit_rules:":
			out = append(out, strings.TrimPrefix(l, "#   "))
		case len(out) > 0 && strings.HasPrefix(l, "#     "):
			out = append(out, strings.TrimPrefix(l, "#   "))
		case len(out) > 0:
			return strings.Join(out, "\n") + "\n"
		}
	}
	t.Fatal("the rules file's header has no inhibit_rules block")
	return ""
}

// TestExportedInhibitRule runs the inhibit rule that docs/ALERTS.md and the
// rules file's header give in a real Alertmanager: a critical alert
// inhibits its own warning, and no other alert's, not even the warning of
// the same rule on the same instance for another tool, method or custom
// metric, which a pattern rule fires apart.
func TestExportedInhibitRule(t *testing.T) {
	clearEnv(t)
	bin := testenv.Require(t, "prometheus-alertmanager")
	dir := t.TempDir()
	exportRules(t, dir)
	rules, err := os.ReadFile(filepath.Join(dir, "pbatunnel.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(alertsDoc)
	if err != nil {
		t.Fatal(err)
	}
	m := docInhibitBlock.FindSubmatch(doc)
	if m == nil {
		t.Fatalf("%s has no yaml block starting with inhibit_rules:", alertsDoc)
	}
	inhibit := string(m[1])

	config := "route:\n  receiver: none\n  group_wait: 0s\nreceivers:\n  - name: none\n" + inhibit
	configFile := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(configFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	am := testenv.StartServer(t, bin, func(addr string) []string {
		return []string{
			"--config.file=" + configFile,
			"--storage.path=" + filepath.Join(dir, "data-"+strings.ReplaceAll(addr, ":", "-")),
			"--web.listen-address=" + addr,
			"--cluster.listen-address=",
		}
	}, "/-/ready", 30*time.Second)
	client := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	t.Cleanup(client.CloseIdleConnections)

	// Alerts as the exported rules label them, with whether the rule
	// should leave each one to be notified.
	type labels = map[string]string
	alert := func(name, rule, instance, severity string, extra ...string) labels {
		l := labels{"alertname": name, "rule": rule, "job": "pbatunnel", "instance": instance, "severity": severity}
		for i := 0; i < len(extra); i += 2 {
			l[extra[i]] = extra[i+1]
		}
		return l
	}
	tests := []struct {
		labels labels
		active bool
	}{
		{alert("PbatunnelMemoryUsage", "memory_usage", "a:8080", "critical"), true},
		{alert("PbatunnelMemoryUsage", "memory_usage", "a:8080", "warning"), false},
		{alert("PbatunnelMemoryUsage", "memory_usage", "b:8080", "warning"), true},
		{alert("PbatunnelToolErrors", "tool_errors", "a:8080", "critical", "gen_ai_tool_name", "search_nodes"), true},
		{alert("PbatunnelToolErrors", "tool_errors", "a:8080", "warning", "gen_ai_tool_name", "search_nodes"), false},
		{alert("PbatunnelToolErrors", "tool_errors", "a:8080", "warning", "gen_ai_tool_name", "code_analysis"), true},
		{alert("PbatunnelSlowMethods", "slow_methods", "a:8080", "critical", "mcp_method_name", "tools/call"), true},
		{alert("PbatunnelSlowMethods", "slow_methods", "a:8080", "warning", "mcp_method_name", "tools/list"), true},
		{alert("PbatunnelQueues", "queues", "a:8080", "critical", "name", "queue.in"), true},
		{alert("PbatunnelQueues", "queues", "a:8080", "warning", "name", "queue.out"), true},
		// A page of an SLO stands for its tickets, on the same instance.
		{alert("PbatunnelToolErrorBudgetBurn", "", "a:8080", "critical", "slo", "tool_errors", "long_window", "1h", "short_window", "5m"), true},
		{alert("PbatunnelToolErrorBudgetBurn", "", "a:8080", "warning", "slo", "tool_errors", "long_window", "3d", "short_window", "6h"), false},
	}
	var posted []map[string]any
	for _, tt := range tests {
		if tt.labels["rule"] == "" {
			delete(tt.labels, "rule")
		}
		posted = append(posted, map[string]any{"labels": tt.labels, "startsAt": time.Now().UTC().Format(time.RFC3339)})
	}
	body, err := json.Marshal(posted)
	if err != nil {
		t.Fatal(err)
	}
	res, err := client.Post(am.URL+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("posting the alerts: %s: %s", res.Status, b)
	}

	type listed struct {
		Labels labels `json:"labels"`
		Status struct {
			State       string   `json:"state"`
			InhibitedBy []string `json:"inhibitedBy"`
		} `json:"status"`
	}
	var got []listed
	for deadline := time.Now().Add(waitLimit); ; time.Sleep(100 * time.Millisecond) {
		res, err := client.Get(am.URL + "/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true")
		if err != nil {
			t.Fatal(err)
		}
		got = nil
		err = json.NewDecoder(res.Body).Decode(&got)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == len(tests) && !slices.ContainsFunc(got, func(l listed) bool { return l.Status.State == "unprocessed" }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Alertmanager lists %d alerts, not all processed: %+v", len(got), got)
		}
	}
	for _, tt := range tests {
		i := slices.IndexFunc(got, func(l listed) bool { return fmt.Sprint(l.Labels) == fmt.Sprint(tt.labels) })
		if i < 0 {
			t.Errorf("alert %v not listed", tt.labels)
			continue
		}
		if active := got[i].Status.State == "active"; active != tt.active {
			t.Errorf("alert %v: state %s (inhibited by %v), want active %v\ninhibit rule:\n%s",
				tt.labels, got[i].Status.State, got[i].Status.InhibitedBy, tt.active, inhibit)
		}
	}

	if header := headerInhibitBlock(t, string(rules)); header != inhibit {
		t.Errorf("the rules file's header gives the inhibit rule\n%s\ndocs/ALERTS.md gives\n%s", header, inhibit)
	}
}
