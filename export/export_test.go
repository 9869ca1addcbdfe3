package export

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/httppost"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

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

// run calls f(ctx), which must subscribe before returning its loop, and
// runs the loop in a goroutine until the test ends.
func run(t *testing.T, f func(ctx context.Context) func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	loop := f(ctx)
	done := make(chan error, 1)
	go func() { done <- loop() }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	})
}

func TestFileRewrittenAtomically(t *testing.T) {
	m := monitor.New(monitor.Options{DisableSystem: true})
	path := filepath.Join(t.TempDir(), "performance_report.json")
	f := &File{Path: path}
	run(t, func(ctx context.Context) func() error {
		snaps := m.Subscribe(ctx, 1)
		return func() error { return f.run(m, snaps) }
	})

	// A reader polls the file while 50 reports are written: every read
	// must be a whole JSON document.
	var torn atomic.Int32
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if b, err := os.ReadFile(path); err == nil && !json.Valid(b) {
				torn.Add(1)
			}
		}
	}()
	for i := range 50 {
		m.RecordToolUsage("enhanced_memory", time.Millisecond, true)
		m.Sample(context.Background())
		waitFor(t, "the report to be written", func() bool { return f.Stats().Sent+f.Stats().Dropped >= uint64(i+1) })
	}
	close(stop)
	wg.Wait()
	if n := torn.Load(); n != 0 {
		t.Errorf("%d reads saw a torn file", n)
	}
	var r struct {
		MonitoringInfo struct {
			SamplesTaken uint64 `json:"samples_taken"`
		} `json:"monitoring_info"`
		ToolMetrics map[string]struct {
			CallCount uint64 `json:"call_count"`
		} `json:"tool_metrics"`
	}
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.MonitoringInfo.SamplesTaken != 50 || r.ToolMetrics["enhanced_memory"].CallCount != 50 {
		t.Errorf("last report: %+v", r)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*.tmp")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestHTTPRetriesQueueAndDrops(t *testing.T) {
	var mode atomic.Value
	mode.Store("fail")
	unblock := make(chan struct{})
	entered := make(chan struct{}, 1)
	var mu sync.Mutex
	var got []uint64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch mode.Load() {
		case "fail":
			mode.Store("ok") // fail once, then work
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		case "block":
			entered <- struct{}{}
			select {
			case <-unblock:
			case <-r.Context().Done():
				return
			}
		}
		var rep struct {
			MonitoringInfo struct {
				SamplesTaken uint64 `json:"samples_taken"`
			} `json:"monitoring_info"`
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &rep); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		mu.Lock()
		got = append(got, rep.MonitoringInfo.SamplesTaken)
		mu.Unlock()
	}))
	defer srv.Close()
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(got) }

	m := monitor.New(monitor.Options{DisableSystem: true})
	h := &HTTP{URL: srv.URL, Backoff: time.Millisecond, Queue: 4}
	u, _ := httppost.ParseURL(srv.URL)
	p := httppost.New(nil, u, nil, 0, 0, time.Millisecond)
	run(t, func(ctx context.Context) func() error {
		snaps := m.Subscribe(ctx, h.Queue)
		return func() error { return h.run(ctx, m, p, snaps) }
	})

	// Sample 1 meets a 503, is retried and arrives.
	m.Sample(context.Background())
	waitFor(t, "report 1", func() bool { return count() == 1 })

	// The endpoint hangs: report 2 is in flight, 4 wait, the oldest of the
	// rest are dropped.
	mode.Store("block")
	m.Sample(context.Background())
	<-entered // report 2 is in flight
	for range 10 {
		m.Sample(context.Background())
	}
	close(unblock)
	mode.Store("ok")
	waitFor(t, "the queue to drain", func() bool { return h.Stats().Sent+h.Stats().Dropped == 12 })
	st := h.Stats()
	mu.Lock()
	defer mu.Unlock()
	if st.Sent != uint64(len(got)) || st.Failed != 0 || st.Dropped == 0 {
		t.Errorf("stats %+v, received %v", st, got)
	}
	if last := got[len(got)-1]; last != 12 {
		t.Errorf("the newest report (12) was lost: received %v", got)
	}
}
