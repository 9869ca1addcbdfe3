package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/httppost"
)

// A receiver is a fake webhook endpoint that records every request and
// answers with respond, given the request's number (from 1).
type receiver struct {
	srv     *httptest.Server
	respond func(n int, w http.ResponseWriter, r *http.Request)
	mu      sync.Mutex
	reqs    []recordedRequest
}

type recordedRequest struct {
	at     time.Time
	method string
	path   string
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{respond: respond}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, recordedRequest{time.Now(), r.Method, r.URL.Path, r.Header.Clone(), body})
		n := len(rc.reqs)
		rc.mu.Unlock()
		if rc.respond != nil {
			rc.respond(n, w, r)
		}
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) requests() []recordedRequest {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.reqs)
}

// statuses answers the n-th request with codes[n-1], and the last code after.
func statuses(codes ...int) func(int, http.ResponseWriter, *http.Request) {
	return func(n int, w http.ResponseWriter, _ *http.Request) {
		code := codes[min(n, len(codes))-1]
		w.WriteHeader(code)
		io.WriteString(w, http.StatusText(code))
	}
}

// fastWebhook returns a Webhook for rc with timings fit for tests.
func fastWebhook(rc *receiver) *Webhook {
	return &Webhook{URL: rc.srv.URL + "/hook", Client: rc.srv.Client(), Timeout: 2 * time.Second, Backoff: time.Millisecond}
}

var hex16 = regexp.MustCompile(`^[0-9a-f]{16}$`)

// TestWebhookPayload checks the JSON against Alertmanager's webhook
// payload, version 4, field by field, decoding it as generic JSON so that a
// misspelt or missing key cannot hide behind a Go struct tag.
func TestWebhookPayload(t *testing.T) {
	const zeroTime = "0001-01-01T00:00:00Z"
	type wantAlert struct {
		status   string
		severity string
		startsAt string
		endsAt   string
	}
	tests := []struct {
		name       string
		a          alert.Alert
		wantStatus string
		wantAlerts []wantAlert
	}{
		{"firing", firingAlert(), "firing", []wantAlert{
			{"firing", "warning", "2026-03-14T15:09:26.535897932Z", zeroTime},
		}},
		{"escalated", escalatedAlert(), "firing", []wantAlert{
			{"resolved", "warning", "2026-03-14T15:09:26.535897932Z", "2026-03-14T15:10:26.535897932Z"},
			{"firing", "critical", "2026-03-14T15:09:26.535897932Z", zeroTime},
		}},
		{"resolved", resolvedAlert(), "resolved", []wantAlert{
			{"resolved", "critical", "2026-03-14T15:09:26.535897932Z", "2026-03-14T15:14:26.535897932Z"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, statuses(http.StatusOK))
			w := fastWebhook(rc)
			w.ExternalURL = "http://127.0.0.1:8080/"
			w.Headers = map[string]string{"Authorization": "Bearer s3cret"}
			if err := w.HandleAlert(context.Background(), tt.a); err != nil {
				t.Fatal(err)
			}
			reqs := rc.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			req := reqs[0]
			if req.method != http.MethodPost || req.path != "/hook" {
				t.Errorf("request %s %s, want POST /hook", req.method, req.path)
			}
			if got := req.header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type %q, want application/json", got)
			}
			if got := req.header.Get("Authorization"); got != "Bearer s3cret" {
				t.Errorf("Authorization %q, want the configured header", got)
			}

			var msg map[string]any
			if err := json.Unmarshal(req.body, &msg); err != nil {
				t.Fatalf("payload is not JSON: %v\n%s", err, req.body)
			}
			wantKeys := []string{"alerts", "commonAnnotations", "commonLabels", "externalURL", "groupKey",
				"groupLabels", "receiver", "status", "truncatedAlerts", "version"}
			if diff := cmp.Diff(wantKeys, sortedKeys(msg)); diff != "" {
				t.Errorf("top-level keys (-want +got):\n%s", diff)
			}
			check := func(key string, want any) {
				t.Helper()
				if diff := cmp.Diff(want, msg[key]); diff != "" {
					t.Errorf("%s (-want +got):\n%s", key, diff)
				}
			}
			group := map[string]any{"alertname": "memory_usage", "metric": "system.memory_percent"}
			check("version", "4")
			check("groupKey", `{}:{alertname="memory_usage", metric="system.memory_percent"}`)
			check("truncatedAlerts", 0.0)
			check("status", tt.wantStatus)
			check("receiver", "pbatunnel")
			check("externalURL", "http://127.0.0.1:8080/")
			check("groupLabels", group)
			common := anyMap(wantLabels(tt.wantAlerts[len(tt.wantAlerts)-1].severity))
			if len(tt.wantAlerts) > 1 {
				delete(common, "severity") // the alerts differ in severity only
			}
			check("commonLabels", common)
			check("commonAnnotations", anyMap(Annotations(tt.a)))

			alerts, ok := msg["alerts"].([]any)
			if !ok || len(alerts) != len(tt.wantAlerts) {
				t.Fatalf("alerts = %v, want %d alerts", msg["alerts"], len(tt.wantAlerts))
			}
			for i, want := range tt.wantAlerts {
				got := alerts[i].(map[string]any)
				wantKeys := []string{"annotations", "endsAt", "fingerprint", "generatorURL", "labels", "startsAt", "status"}
				if diff := cmp.Diff(wantKeys, sortedKeys(got)); diff != "" {
					t.Errorf("alert %d keys (-want +got):\n%s", i, diff)
				}
				labels := wantLabels(want.severity)
				wantAlert := map[string]any{
					"status":       want.status,
					"labels":       anyMap(labels),
					"annotations":  anyMap(Annotations(tt.a)),
					"startsAt":     want.startsAt,
					"endsAt":       want.endsAt,
					"generatorURL": "http://127.0.0.1:8080/",
					"fingerprint":  fingerprint(labels),
				}
				if diff := cmp.Diff(wantAlert, got); diff != "" {
					t.Errorf("alert %d (-want +got):\n%s", i, diff)
				}
				for _, key := range []string{"startsAt", "endsAt"} {
					if _, err := time.Parse(time.RFC3339, got[key].(string)); err != nil {
						t.Errorf("alert %d %s: not RFC 3339: %v", i, key, err)
					}
				}
				if fp, _ := got["fingerprint"].(string); !hex16.MatchString(fp) {
					t.Errorf("alert %d fingerprint %q, want 16 hex digits", i, fp)
				}
			}
		})
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func anyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestWebhookReceiverDefaults(t *testing.T) {
	w := &Webhook{Receiver: "ops"}
	if got := w.message(firingAlert(), t0).Receiver; got != "ops" {
		t.Errorf("receiver %q, want ops", got)
	}
	// Maps are {} rather than null even when empty, as Alertmanager sends.
	b, err := json.Marshal((&Webhook{}).message(alert.Alert{Transition: alert.TransitionFiring}, t0))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"groupLabels":{}`, `"externalURL":""`, `"generatorURL":""`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("payload %s lacks %s", b, key)
		}
	}
}

func TestWebhookStatusHandling(t *testing.T) {
	tests := []struct {
		name         string
		codes        []int
		retries      int
		wantRequests int
		wantErr      string // empty: delivered
		wantStatus   int    // the StatusError's code, if any
	}{
		{"ok", []int{200}, 0, 1, "", 0},
		{"accepted", []int{202}, 0, 1, "", 0},
		{"500 twice then success", []int{500, 500, 200}, 3, 3, "", 0},
		{"408 is retried", []int{408, 204}, 3, 2, "", 0},
		{"429 is retried", []int{429, 200}, 3, 2, "", 0},
		{"502 gives up after the retries", []int{502}, 2, 3, "giving up after 3 attempts: status 502 Bad Gateway", 502},
		{"zero retries means the default", []int{500}, 0, 1 + DefaultRetries, "giving up after 4 attempts", 500},
		{"negative retries means none", []int{503, 200}, -1, 1, "status 503", 503},
		{"400 is permanent", []int{400, 200}, 3, 1, "status 400 Bad Request: Bad Request", 400},
		{"401 is permanent", []int{401, 200}, 3, 1, "status 401 Unauthorized", 401},
		{"404 is permanent", []int{404, 200}, 3, 1, "status 404 Not Found", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, statuses(tt.codes...))
			w := fastWebhook(rc)
			w.Retries = tt.retries
			err := w.HandleAlert(context.Background(), firingAlert())
			if n := len(rc.requests()); n != tt.wantRequests {
				t.Errorf("%d requests, want %d", n, tt.wantRequests)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("HandleAlert: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("HandleAlert = %v, want an error containing %q", err, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "posting webhook: ") {
				t.Errorf("error %q lacks its context", err)
			}
			var se *StatusError
			if !errors.As(err, &se) || se.Code != tt.wantStatus {
				t.Errorf("error %v: StatusError %+v, want code %d", err, se, tt.wantStatus)
			}
		})
	}
}

func TestWebhookErrorBodyLimit(t *testing.T) {
	long := strings.Repeat("x", 2000)
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "bad payload: "+long, http.StatusUnprocessableEntity)
	})
	err := fastWebhook(rc).HandleAlert(context.Background(), firingAlert())
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("HandleAlert = %v, want a StatusError", err)
	}
	if len(se.Body) != httppost.ErrorBodyLimit || !strings.HasPrefix(se.Body, "bad payload: xxx") {
		t.Errorf("error body is %d bytes starting %.20q, want the first %d bytes", len(se.Body), se.Body, httppost.ErrorBodyLimit)
	}
}

func TestWebhookRedirectIsNotFollowed(t *testing.T) {
	target := newReceiver(t, statuses(200))
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.srv.URL, http.StatusFound)
	})
	w := &Webhook{URL: rc.srv.URL, Backoff: time.Millisecond} // the package's own client
	t.Cleanup(httppost.CloseIdleConnections)
	err := w.HandleAlert(context.Background(), firingAlert())
	if err == nil || !strings.Contains(err.Error(), "status 302") {
		t.Errorf("HandleAlert = %v, want a status 302 error", err)
	}
	if n := len(target.requests()); n != 0 {
		t.Errorf("the redirect was followed (%d requests to its target)", n)
	}
}

// TestWebhookSlowReceiver: a receiver that never answers costs about
// Timeout per attempt, and then an error, not a hang.
func TestWebhookSlowReceiver(t *testing.T) {
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // until the client gives up
	})
	const timeout = 100 * time.Millisecond
	w := fastWebhook(rc)
	w.Timeout, w.Retries = timeout, 1

	start := time.Now()
	err := w.HandleAlert(context.Background(), firingAlert())
	elapsed := time.Since(start)

	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("HandleAlert = %v, want a deadline error", err)
	}
	if err != nil && !strings.Contains(err.Error(), "no answer within 100ms") {
		t.Errorf("error %q does not say the attempt timed out", err)
	}
	if n := len(rc.requests()); n != 2 {
		t.Errorf("%d attempts, want 2", n)
	}
	if elapsed < 2*timeout || elapsed > 2*timeout+3*time.Second {
		t.Errorf("took %v, want about %v (two attempts)", elapsed, 2*timeout)
	}
}

func TestWebhookCancelDuringBackoff(t *testing.T) {
	rc := newReceiver(t, statuses(http.StatusInternalServerError))
	// The client tells when the first answer has arrived: from then on,
	// HandleAlert is in its backoff.
	answered := make(chan struct{}, 10)
	w := fastWebhook(rc)
	w.Client = &http.Client{Transport: notifyingTransport{rc.srv.Client().Transport, answered}}
	w.Backoff = time.Hour // the wait is capped at 30 s, far beyond the test's patience

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.HandleAlert(ctx, firingAlert()) }()
	<-answered
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("HandleAlert = %v, want context.Canceled", err)
		}
		if err != nil && !strings.Contains(err.Error(), "status 500") {
			t.Errorf("error %q does not mention the last failure", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("HandleAlert did not return after its context was cancelled")
	}
	if n := len(rc.requests()); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}

// notifyingTransport signals on answered after each response arrives.
type notifyingTransport struct {
	rt       http.RoundTripper
	answered chan<- struct{}
}

func (t notifyingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.rt.RoundTrip(r)
	t.answered <- struct{}{}
	return resp, err
}

func TestWebhookCancelledBeforeStart(t *testing.T) {
	rc := newReceiver(t, statuses(200))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := fastWebhook(rc).HandleAlert(ctx, firingAlert()); !errors.Is(err, context.Canceled) {
		t.Errorf("HandleAlert = %v, want context.Canceled", err)
	}
}

func TestWebhookRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		code       int
		retryAfter string
		minGap     time.Duration
		maxGap     time.Duration
	}{
		{"429 with Retry-After", http.StatusTooManyRequests, "1", time.Second, 10 * time.Second},
		{"503 with Retry-After", http.StatusServiceUnavailable, "1", time.Second, 10 * time.Second},
		{"429 without Retry-After: the backoff", http.StatusTooManyRequests, "", 0, 900 * time.Millisecond},
		{"500 ignores Retry-After", http.StatusInternalServerError, "1", 0, 900 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
				if n == 1 {
					if tt.retryAfter != "" {
						w.Header().Set("Retry-After", tt.retryAfter)
					}
					w.WriteHeader(tt.code)
				}
			})
			if err := fastWebhook(rc).HandleAlert(context.Background(), firingAlert()); err != nil {
				t.Fatal(err)
			}
			reqs := rc.requests()
			if len(reqs) != 2 {
				t.Fatalf("%d requests, want 2", len(reqs))
			}
			if gap := reqs[1].at.Sub(reqs[0].at); gap < tt.minGap || gap > tt.maxGap {
				t.Errorf("retried after %v, want within [%v, %v]", gap, tt.minGap, tt.maxGap)
			}
		})
	}
}

func TestWebhookNetworkError(t *testing.T) {
	// A port nothing listens on: connections are refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	w := &Webhook{URL: "http://user:secret@" + addr + "/hook?token=abc", Retries: 2, Backoff: time.Millisecond}
	err = w.HandleAlert(context.Background(), firingAlert())
	if err == nil || !strings.Contains(err.Error(), "giving up after 3 attempts") {
		t.Fatalf("HandleAlert = %v, want it to give up after 3 attempts", err)
	}
	for _, secret := range []string{"secret", "abc", "user"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q shows %q from the URL", err, secret)
		}
	}
}

func TestWebhookInvalidURL(t *testing.T) {
	w := &Webhook{URL: "ftp://user:secret@example.com/"}
	err := w.HandleAlert(context.Background(), firingAlert())
	if err == nil || !strings.Contains(err.Error(), "scheme must be http or https") {
		t.Errorf("HandleAlert = %v, want a scheme error", err)
	}
}

func TestWebhookValidate(t *testing.T) {
	tests := []struct {
		url   string
		valid bool
	}{
		{"http://127.0.0.1:9000/hook", true},
		{"https://hooks.example.com/services/T0/B0/x", true},
		{"", false},
		{"hooks.example.com/x", false},
		{"/hook", false},
		{"ftp://example.com/", false},
		{"https://", false},
		{"http://[::1", false},
	}
	for _, tt := range tests {
		err := (&Webhook{URL: tt.url}).Validate()
		if (err == nil) != tt.valid {
			t.Errorf("Validate(%q) = %v, want valid %v", tt.url, err, tt.valid)
		}
	}
}

func TestWebhookName(t *testing.T) {
	tests := []struct {
		url, want string
	}{
		{"https://hooks.example.com/x", "webhook https://hooks.example.com/x"},
		{"https://bob:hunter2@hooks.example.com/x", "webhook https://xxxxx:xxxxx@hooks.example.com/x"},
		{"https://hooks.example.com/x?apikey=hunter2", "webhook https://hooks.example.com/x?apikey=xxxxx"},
		{"http://bob:hunter2@[::1", "webhook (invalid URL)"},
		{"", "webhook (invalid URL)"},
	}
	for _, tt := range tests {
		if got := (&Webhook{URL: tt.url}).Name(); got != tt.want {
			t.Errorf("Name() for %q = %q, want %q", tt.url, got, tt.want)
		}
	}
}
