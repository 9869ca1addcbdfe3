package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// realAlertmanager is a prometheus-alertmanager process on loopback.
type realAlertmanager struct {
	url    string
	client *http.Client
}

// startAlertmanager runs Alertmanager with one route to one receiver, a
// webhook to hookURL that also sends resolutions, grouping by rule and
// series and flushing without delay, and waits until it is ready.
func startAlertmanager(t *testing.T, hookURL string) *realAlertmanager {
	t.Helper()
	bin := testenv.Require(t, "prometheus-alertmanager")
	dir := t.TempDir()
	config := fmt.Sprintf(`route:
  receiver: capture
  group_by: [alertname, metric]
  group_wait: 0s
  group_interval: 100ms
  repeat_interval: 1h
receivers:
  - name: capture
    webhook_configs:
      - url: %q
        send_resolved: true
`, hookURL)
	configFile := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(configFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(client.CloseIdleConnections)
	srv := testenv.StartServer(t, bin, func(addr string) []string {
		return []string{
			"--config.file=" + configFile,
			"--storage.path=" + filepath.Join(dir, "data-"+strings.ReplaceAll(addr, ":", "-")),
			"--web.listen-address=" + addr,
			"--cluster.listen-address=", // no clustering: no gossip, no peers
		}
	}, "/-/ready", 30*time.Second)
	return &realAlertmanager{url: srv.URL, client: client}
}

// gettableAlert is the part of Alertmanager's GettableAlert the test reads.
type gettableAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	Fingerprint string            `json:"fingerprint"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
}

// alerts lists Alertmanager's alerts, with every filter open: active,
// silenced, inhibited and unprocessed alike.
func (am *realAlertmanager) alerts(t *testing.T) []gettableAlert {
	t.Helper()
	resp, err := am.client.Get(am.url + "/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /api/v2/alerts: %s: %s", resp.Status, b)
	}
	var out []gettableAlert
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func findAlert(alerts []gettableAlert, labels map[string]string) (gettableAlert, bool) {
	for _, a := range alerts {
		if cmp.Equal(a.Labels, labels) {
			return a, true
		}
	}
	return gettableAlert{}, false
}

// TestRealAlertmanager pushes an alert's life to a real Alertmanager and
// checks what Alertmanager makes of it: the alert listed, active, with our
// labels, annotations, times and fingerprint; then gone once resolved. It
// also captures the webhook notifications Alertmanager sends for it, and
// checks that our Webhook sends the same payload for the same alert.
func TestRealAlertmanager(t *testing.T) {
	t.Parallel()
	hooks := make(chan []byte, 16)
	capture := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hooks <- b
	}))
	t.Cleanup(capture.Close)
	proc := startAlertmanager(t, capture.URL+"/hook")

	const external = "http://127.0.0.1:8080/"
	const resend = time.Minute
	am := &Alertmanager{URL: proc.url, Client: proc.client, ExternalURL: external, ResendInterval: resend}
	ctx := context.Background()

	start := time.Now().Add(-time.Minute).UTC()
	firing := firingAlert()
	firing.Rule = "memory_usage_" + t.Name() // apart from anything else in it
	firing.StartsAt, firing.At = start, start
	labels := Labels(firing)

	// Firing: listed, active, as pushed.
	before := time.Now()
	if err := am.HandleAlert(ctx, firing); err != nil {
		t.Fatalf("pushing the firing alert: %v", err) // the log follows at cleanup
	}
	got, ok := findAlert(proc.alerts(t), labels)
	if !ok {
		t.Fatalf("alert with labels %v not listed: %+v", labels, proc.alerts(t))
	}
	if got.Status.State != "active" {
		t.Errorf("state %q, want active", got.Status.State)
	}
	if diff := cmp.Diff(Annotations(firing), got.Annotations); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}
	if got.Fingerprint != fingerprint(labels) {
		t.Errorf("Alertmanager's fingerprint %s, ours %s", got.Fingerprint, fingerprint(labels))
	}
	if d := got.StartsAt.Sub(start).Abs(); d > time.Millisecond {
		t.Errorf("startsAt %v, want %v", got.StartsAt, start)
	}
	if got.EndsAt.Before(before.Add(4*resend-time.Second)) || got.EndsAt.After(time.Now().Add(4*resend+time.Second)) {
		t.Errorf("endsAt %v, want about now + %v", got.EndsAt, 4*resend)
	}

	// Alertmanager's webhook notification equals our Webhook's payload.
	ours := &Webhook{Receiver: "capture", ExternalURL: external}
	compareWebhook(t, "firing", awaitHook(t, hooks, "firing"), ours.message(firing, time.Now()))

	// Resolved: no longer listed, under any filter: Alertmanager's API
	// leaves out every alert whose endsAt has passed.
	resolved := resolvedAlert()
	resolved.Rule, resolved.Previous = firing.Rule, firing.Level
	resolved.StartsAt, resolved.At, resolved.EndsAt = start, time.Now().UTC(), time.Now().UTC()
	if err := am.HandleAlert(ctx, resolved); err != nil {
		t.Fatalf("pushing the resolution: %v", err)
	}
	if a, ok := findAlert(proc.alerts(t), labels); ok {
		t.Errorf("resolved alert still listed: %+v", a)
	}
	if act := activeSeverities(am); len(act) != 0 {
		t.Errorf("still re-pushing %v after the resolution", act)
	}
	compareWebhook(t, "resolved", awaitHook(t, hooks, "resolved"), ours.message(resolved, time.Now()))
}

// awaitHook returns the next webhook body from Alertmanager whose status is
// status.
func awaitHook(t *testing.T, hooks <-chan []byte, status string) map[string]any {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case b := <-hooks:
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("Alertmanager's webhook body: %v\n%s", err, b)
			}
			if m["status"] == status {
				return m
			}
		case <-timeout:
			t.Fatalf("no %s webhook notification from Alertmanager", status)
		}
	}
}

// compareWebhook checks that our payload has the keys, the types and the
// values of Alertmanager's, but for externalURL, which for Alertmanager is
// itself and for us the dashboard.
func compareWebhook(t *testing.T, what string, theirs map[string]any, msg webhookMessage) {
	t.Helper()
	b, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	var ours map[string]any
	if err := json.Unmarshal(b, &ours); err != nil {
		t.Fatal(err)
	}
	if _, ok := theirs["externalURL"].(string); !ok {
		t.Errorf("%s: Alertmanager's externalURL is %v", what, theirs["externalURL"])
	}
	theirs["externalURL"] = ours["externalURL"]
	// Times are compared as instants: Alertmanager may write them with
	// another precision.
	instants := cmp.FilterPath(func(p cmp.Path) bool {
		k := p.Last().String()
		return strings.HasSuffix(k, `["startsAt"]`) || strings.HasSuffix(k, `["endsAt"]`)
	}, cmp.Comparer(func(a, b any) bool {
		as, aok := a.(string)
		bs, bok := b.(string)
		if !aok || !bok {
			return false
		}
		at, err1 := time.Parse(time.RFC3339Nano, as)
		bt, err2 := time.Parse(time.RFC3339Nano, bs)
		return err1 == nil && err2 == nil && at.Sub(bt).Abs() <= time.Millisecond
	}))
	if diff := cmp.Diff(theirs, ours, instants); diff != "" {
		t.Errorf("%s webhook payload (-Alertmanager +ours):\n%s", what, diff)
	}
}
