package notify_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/notify"
)

// receiver is a webhook endpoint whose behaviour the test switches: it
// fails, is slow, or works, and keeps the alerts it accepted.
type receiver struct {
	mode     atomic.Value // "fail", "slow", "block" or "ok"
	unblock  chan struct{}
	failed   atomic.Int32 // 500s served
	slow     atomic.Int32 // slow answers served
	mu       sync.Mutex
	accepted []string // transition of each accepted alert, in order
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch rc.mode.Load() {
	case "fail":
		rc.failed.Add(1)
		http.Error(w, "down for maintenance", http.StatusInternalServerError)
		return
	case "slow":
		rc.slow.Add(1)
		time.Sleep(50 * time.Millisecond)
	case "block":
		select {
		case <-rc.unblock:
		case <-r.Context().Done():
			return
		}
	}
	var msg struct {
		Alerts []struct {
			Status string            `json:"status"`
			Labels map[string]string `json:"labels"`
		} `json:"alerts"`
	}
	if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	for _, a := range msg.Alerts {
		rc.accepted = append(rc.accepted, a.Status)
	}
	rc.mu.Unlock()
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.accepted)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestWebhookFailsThenSlowThenRecovers drives a running monitor whose
// webhook endpoint fails, then is slow, then recovers: every notification
// within the queue bound arrives, sampling never waits, and notifications
// beyond the bound are dropped and counted.
func TestWebhookFailsThenSlowThenRecovers(t *testing.T) {
	rc := &receiver{unblock: make(chan struct{})}
	rc.mode.Store("fail")
	srv := httptest.NewServer(rc)
	defer srv.Close()

	const queue = 8
	m := monitor.New(monitor.Options{DisableSystem: true})
	e := alert.New(m, alert.Options{NoDefaultRules: true, Queue: queue})
	flip := m.Gauge("flip")
	if err := e.AddRule(alert.Rule{Name: "flip", Metric: "custom.flip", Warning: alert.Ptr(0.5)}); err != nil {
		t.Fatal(err)
	}
	// Patient enough to outlast the failing phase: retries with a short
	// doubling backoff.
	e.OnAlert(&notify.Webhook{URL: srv.URL, Timeout: 5 * time.Second, Retries: 20, Backoff: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); e.Wait() }()
	e.Start(ctx)
	if err := m.Start(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	defer m.Stop()

	// sample flips the gauge across the threshold: one transition each
	// time. It must return promptly whatever the endpoint does.
	n := 0
	sample := func() {
		t.Helper()
		flip.Set(float64(n % 2))
		n++
		done := make(chan struct{})
		go func() { m.Sample(ctx); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("sampling blocked on the webhook")
		}
	}
	sample() // value 0: no transition yet

	// Failing, then slow, then working: 6 transitions, within the bound.
	for range 3 {
		sample()
	}
	waitFor(t, "the endpoint to fail twice", func() bool { return rc.failed.Load() >= 2 })
	rc.mode.Store("slow")
	for range 3 {
		sample()
	}
	waitFor(t, "a slow answer", func() bool { return rc.slow.Load() >= 1 })
	rc.mode.Store("ok")
	waitFor(t, "6 notifications", func() bool { return e.HandlerStats()[0].Delivered == 6 })
	if rc.count() != 6 {
		t.Fatalf("receiver accepted %d, want 6", rc.count())
	}
	st := e.HandlerStats()[0]
	if st.Delivered != 6 || st.Dropped != 0 || st.Failed != 0 {
		t.Fatalf("after recovery: %+v", st)
	}

	// Now the endpoint hangs: one notification is in flight, `queue` wait,
	// the rest are dropped and counted.
	rc.mode.Store("block")
	sample()
	waitFor(t, "the webhook to be in flight", func() bool { return e.HandlerStats()[0].Queued == 0 })
	for range queue + 5 {
		sample()
	}
	st = e.HandlerStats()[0]
	if st.Dropped != 5 || st.Queued != queue {
		t.Fatalf("while blocked: %+v, want 5 dropped and %d queued", st, queue)
	}
	close(rc.unblock)
	rc.mode.Store("ok")
	waitFor(t, "the queue to drain", func() bool { return e.HandlerStats()[0].Delivered == 6+1+queue })
	if rc.count() != 6+1+queue {
		t.Errorf("receiver accepted %d, want %d", rc.count(), 6+1+queue)
	}
	if st := e.HandlerStats()[0]; st.Delivered != 6+1+queue || st.Dropped != 5 {
		t.Errorf("at the end: %+v", st)
	}
}
