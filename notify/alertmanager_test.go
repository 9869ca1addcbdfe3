package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// activeSeverities returns the severities of the alert instances am
// re-pushes, resolved ones marked with a "-".
func activeSeverities(am *Alertmanager) []string {
	if am.lock(context.Background()) != nil {
		return nil
	}
	defer am.unlock()
	var out []string
	for _, t := range am.active {
		s := t.n.labels["alertname"] + "/" + t.n.labels["severity"]
		if t.n.resolved() {
			s = "-" + s
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// pushed is one alert of a POST /api/v2/alerts body, as sent.
type pushed struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
}

func decodePush(t *testing.T, r recordedRequest) []pushed {
	t.Helper()
	if r.method != http.MethodPost || r.path != "/prefix/api/v2/alerts" {
		t.Errorf("request %s %s, want POST /prefix/api/v2/alerts", r.method, r.path)
	}
	// Every key must be one Alertmanager's PostableAlert knows.
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatalf("body is not a JSON array: %v\n%s", err, r.body)
	}
	for _, a := range raw {
		for k := range a {
			if !slices.Contains([]string{"labels", "annotations", "startsAt", "endsAt", "generatorURL"}, k) {
				t.Errorf("unknown key %q in %s", k, r.body)
			}
		}
	}
	var out []pushed
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return tm
}

func TestAlertmanagerPush(t *testing.T) {
	rc := newReceiver(t, statuses(http.StatusOK))
	am := &Alertmanager{
		URL: rc.srv.URL + "/prefix/", Client: rc.srv.Client(), Backoff: time.Millisecond,
		ExternalURL: "http://127.0.0.1:8080/",
	}
	const resend = DefaultResendInterval

	type wantPush struct {
		severity string
		endsAt   time.Time // zero: firing, endsAt about now + 4×resend
	}
	steps := []struct {
		a          alert.Alert
		want       []wantPush
		wantActive []string
	}{
		{firingAlert(), []wantPush{{"warning", time.Time{}}}, []string{"memory_usage/warning"}},
		{escalatedAlert(), []wantPush{
			{"warning", t0.Add(time.Minute)},
			{"critical", time.Time{}},
		}, []string{"memory_usage/critical"}},
		{resolvedAlert(), []wantPush{{"critical", t0.Add(5 * time.Minute)}}, nil},
	}
	for i, step := range steps {
		before := time.Now()
		if err := am.HandleAlert(context.Background(), step.a); err != nil {
			t.Fatalf("step %d (%s): %v", i, step.a.Transition, err)
		}
		after := time.Now()
		reqs := rc.requests()
		if len(reqs) != i+1 {
			t.Fatalf("step %d: %d requests, want %d", i, len(reqs), i+1)
		}
		if got := reqs[i].header.Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type %q", got)
		}
		got := decodePush(t, reqs[i])
		if len(got) != len(step.want) {
			t.Fatalf("step %d: pushed %d alerts, want %d: %+v", i, len(got), len(step.want), got)
		}
		for j, want := range step.want {
			p := got[j]
			if diff := cmp.Diff(wantLabels(want.severity), p.Labels); diff != "" {
				t.Errorf("step %d alert %d labels (-want +got):\n%s", i, j, diff)
			}
			if diff := cmp.Diff(Annotations(step.a), p.Annotations); diff != "" {
				t.Errorf("step %d alert %d annotations (-want +got):\n%s", i, j, diff)
			}
			if p.GeneratorURL != "http://127.0.0.1:8080/" {
				t.Errorf("step %d alert %d generatorURL %q", i, j, p.GeneratorURL)
			}
			if s := parseTime(t, p.StartsAt); !s.Equal(t0) {
				t.Errorf("step %d alert %d startsAt %v, want %v", i, j, s, t0)
			}
			e := parseTime(t, p.EndsAt)
			if want.endsAt.IsZero() {
				if e.Before(before.Add(4*resend)) || e.After(after.Add(4*resend)) {
					t.Errorf("step %d alert %d (firing) endsAt %v, want now + %v", i, j, e, 4*resend)
				}
			} else if !e.Equal(want.endsAt) {
				t.Errorf("step %d alert %d endsAt %v, want %v", i, j, e, want.endsAt)
			}
		}
		if diff := cmp.Diff(step.wantActive, activeSeverities(am)); diff != "" {
			t.Errorf("step %d: active alerts (-want +got):\n%s", i, diff)
		}
	}
}

// TestAlertmanagerResolvesLostSeverity: if the escalation was never
// notified, the warning instance must still be resolved when the critical
// fires, or it would stay active in Alertmanager for as long as Run lives.
func TestAlertmanagerResolvesLostSeverity(t *testing.T) {
	rc := newReceiver(t, statuses(http.StatusOK))
	am := &Alertmanager{URL: rc.srv.URL + "/prefix", Client: rc.srv.Client()}
	if err := am.HandleAlert(context.Background(), firingAlert()); err != nil {
		t.Fatal(err)
	}
	critical := escalatedAlert()
	critical.Previous, critical.Transition = "", alert.TransitionRepeat
	if err := am.HandleAlert(context.Background(), critical); err != nil {
		t.Fatal(err)
	}
	got := decodePush(t, rc.requests()[1])
	var summary []string
	for _, p := range got {
		state := "firing"
		if e := parseTime(t, p.EndsAt); e.Equal(critical.At) {
			state = "resolved"
		}
		summary = append(summary, p.Labels["severity"]+" "+state)
	}
	slices.Sort(summary)
	if diff := cmp.Diff([]string{"critical firing", "warning resolved"}, summary); diff != "" {
		t.Errorf("pushed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"memory_usage/critical"}, activeSeverities(am)); diff != "" {
		t.Errorf("active (-want +got):\n%s", diff)
	}
}

func TestAlertmanagerSyntheticNotTracked(t *testing.T) {
	rc := newReceiver(t, statuses(http.StatusOK))
	am := &Alertmanager{URL: rc.srv.URL + "/prefix", Client: rc.srv.Client()}
	if err := am.HandleAlert(context.Background(), firingAlert()); err != nil {
		t.Fatal(err)
	}
	test := firingAlert()
	test.Synthetic, test.Level = true, alert.LevelCritical
	if err := am.HandleAlert(context.Background(), test); err != nil {
		t.Fatal(err)
	}
	got := decodePush(t, rc.requests()[1])
	if len(got) != 1 || got[0].Labels["synthetic"] != "true" {
		t.Errorf("pushed %+v, want the synthetic alert alone", got)
	}
	// The real warning is untouched, and the test alert is not re-pushed.
	if diff := cmp.Diff([]string{"memory_usage/warning"}, activeSeverities(am)); diff != "" {
		t.Errorf("active (-want +got):\n%s", diff)
	}
}

func TestAlertmanagerErrors(t *testing.T) {
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "start time must be before end time", http.StatusBadRequest)
	})
	am := &Alertmanager{URL: rc.srv.URL + "/prefix", Client: rc.srv.Client(), Backoff: time.Millisecond}
	err := am.HandleAlert(context.Background(), firingAlert())
	if err == nil || !strings.HasPrefix(err.Error(), "posting to alertmanager: status 400") ||
		!strings.Contains(err.Error(), "start time must be before end time") {
		t.Errorf("HandleAlert = %v, want a 400 with Alertmanager's reason", err)
	}
	if n := len(rc.requests()); n != 1 {
		t.Errorf("%d requests, want 1 (a 400 is not retried)", n)
	}

	bad := &Alertmanager{URL: "localhost:9093"}
	if err := bad.HandleAlert(context.Background(), firingAlert()); err == nil {
		t.Error("HandleAlert with a URL without scheme succeeded")
	}
	if err := bad.Validate(); err == nil {
		t.Error("Validate accepted a URL without scheme")
	}
	if err := (&Alertmanager{URL: "http://127.0.0.1:9093"}).Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestAlertmanagerName(t *testing.T) {
	tests := []struct{ url, want string }{
		{"http://127.0.0.1:9093", "alertmanager http://127.0.0.1:9093"},
		{"https://admin:pw@am.example.com/", "alertmanager https://xxxxx:xxxxx@am.example.com/"},
		{"am.example.com", "alertmanager (invalid URL)"},
	}
	for _, tt := range tests {
		if got := (&Alertmanager{URL: tt.url}).Name(); got != tt.want {
			t.Errorf("Name() for %q = %q, want %q", tt.url, got, tt.want)
		}
	}
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pushSummary is the alertname/severity of every alert in a push, resolved
// ones marked with a "-".
func pushSummary(t *testing.T, r recordedRequest) []string {
	var out []string
	for _, p := range decodePush(t, r) {
		s := p.Labels["alertname"] + "/" + p.Labels["severity"]
		if parseTime(t, p.EndsAt).Before(r.at) {
			s = "-" + s
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func TestAlertmanagerRun(t *testing.T) {
	// The fake fails while failing is set, and notes, under the same lock,
	// which requests succeeded.
	var (
		mu        sync.Mutex
		failing   bool
		succeeded = map[int]bool{}
	)
	setFailing := func(f bool) { mu.Lock(); failing = f; mu.Unlock() }
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		f := failing
		succeeded[n-1] = !f
		mu.Unlock()
		if f {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	const resend = 20 * time.Millisecond
	am := &Alertmanager{
		URL: rc.srv.URL + "/prefix", Client: rc.srv.Client(), Retries: -1, ResendInterval: resend,
	}
	cpu := firingAlert()
	cpu.Rule, cpu.StartsAt, cpu.At = "cpu_usage", time.Now(), time.Now()
	mem := firingAlert()
	mem.StartsAt, mem.At = time.Now(), time.Now()
	for _, a := range []alert.Alert{cpu, mem} {
		if err := am.HandleAlert(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- am.Run(ctx) }()

	both := []string{"cpu_usage/warning", "memory_usage/warning"}
	waitFor(t, "two re-pushes", func() bool { return len(rc.requests()) >= 4 })
	reqs := rc.requests()
	for _, r := range reqs[2:4] {
		if diff := cmp.Diff(both, pushSummary(t, r)); diff != "" {
			t.Fatalf("re-push (-want +got):\n%s", diff)
		}
	}
	// Each re-push moves endsAt forward.
	e1 := parseTime(t, decodePush(t, reqs[2])[0].EndsAt)
	e2 := parseTime(t, decodePush(t, reqs[3])[0].EndsAt)
	if !e2.After(e1) {
		t.Errorf("endsAt did not move forward between re-pushes: %v then %v", e1, e2)
	}

	// The resolution of memory_usage fails; Run delivers it with its next
	// successful re-push, then stops sending it.
	setFailing(true)
	res := resolvedAlert()
	res.Previous, res.StartsAt, res.At, res.EndsAt = alert.LevelWarning, mem.StartsAt, time.Now(), time.Now()
	if err := am.HandleAlert(context.Background(), res); err == nil {
		t.Fatal("HandleAlert succeeded against a failing Alertmanager")
	}
	mark := len(rc.requests()) // the failed resolution is the last before mark
	if diff := cmp.Diff([]string{"-memory_usage/warning", "cpu_usage/warning"}, activeSeverities(am)); diff != "" {
		t.Errorf("active after a failed resolution (-want +got):\n%s", diff)
	}
	setFailing(false)

	cpuAlone := []string{"cpu_usage/warning"}
	waitFor(t, "a re-push of cpu_usage alone", func() bool {
		reqs := rc.requests()
		return len(reqs) > mark && slices.Equal(pushSummary(t, reqs[len(reqs)-1]), cpuAlone)
	})
	reqs = rc.requests()
	mu.Lock()
	defer mu.Unlock()
	delivered := false
	for i := mark; i < len(reqs); i++ {
		got := pushSummary(t, reqs[i])
		want := []string{"-memory_usage/warning", "cpu_usage/warning"}
		if delivered {
			want = cpuAlone
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("re-push %d (delivered before: %v) (-want +got):\n%s", i, delivered, diff)
		}
		delivered = delivered || succeeded[i]
	}
	if diff := cmp.Diff(cpuAlone, activeSeverities(am)); diff != "" {
		t.Errorf("active after delivery (-want +got):\n%s", diff)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
}

func TestAlertmanagerRunLogsFailures(t *testing.T) {
	rc := newReceiver(t, statuses(http.StatusBadGateway))
	var logs testenv.Buffer
	am := &Alertmanager{
		URL: "http://user:pw@" + strings.TrimPrefix(rc.srv.URL, "http://"), Client: rc.srv.Client(), Retries: -1,
		ResendInterval: 10 * time.Millisecond,
		Logger:         slog.New(slog.NewTextHandler(&logs, nil)),
	}
	if err := am.HandleAlert(context.Background(), firingAlert()); err == nil {
		t.Fatal("HandleAlert succeeded against a failing Alertmanager")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- am.Run(ctx) }()
	waitFor(t, "a logged failure", func() bool { return strings.Contains(logs.String(), "status 502") })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	if s := logs.String(); !strings.Contains(s, "re-pushing alerts to alertmanager failed") || strings.Contains(s, "pw@") {
		t.Errorf("log %q: want the failure, without the password", s)
	}
}

// TestAlertmanagerResendWaitsWithContext: a re-push waiting behind a slow
// push gives up when its context ends, so Run can return.
func TestAlertmanagerResendWaitsWithContext(t *testing.T) {
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	am := &Alertmanager{URL: rc.srv.URL, Client: rc.srv.Client(), Timeout: time.Hour}
	hctx, hcancel := context.WithCancel(context.Background())
	handled := make(chan error, 1)
	go func() { handled <- am.HandleAlert(hctx, firingAlert()) }()
	// Once the request arrived, HandleAlert holds the lock until it ends.
	waitFor(t, "the push to start", func() bool { return len(rc.requests()) > 0 })

	ctx, cancel := context.WithCancel(context.Background())
	resent := make(chan error, 1)
	go func() { resent <- am.resend(ctx) }()
	cancel()
	select {
	case err := <-resent:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("resend = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("resend did not return while a push held the lock")
	}
	hcancel()
	if err := <-handled; !errors.Is(err, context.Canceled) {
		t.Errorf("HandleAlert = %v, want context.Canceled", err)
	}
	if n := len(rc.requests()); n != 1 {
		t.Errorf("%d requests, want 1 (the re-push must not have been sent)", n)
	}
}
