package dashboard

import (
	"bytes"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/report"
)

// Every form of the report comes from the one report built per sample: the
// text as much as the JSON, however many requests ask.
func TestReportBuiltOncePerSample(t *testing.T) {
	m := monitor.New(monitor.Options{DisableSystem: true})
	m.Sample(t.Context())
	m.RecordToolUsage("enhanced_memory", time.Millisecond, true)
	cache := &reportCache{m: m}
	a := &api{m: m, report: cache}
	request := func(target string) []byte {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", target, nil)
		if target == "/api/tools" {
			a.tools(w, r)
		} else {
			a.metrics(w, r)
		}
		if w.Code != 200 {
			t.Fatalf("%s: status %d: %s", target, w.Code, w.Body)
		}
		return w.Body.Bytes()
	}
	for sample := uint64(1); sample <= 2; sample++ {
		for _, target := range []string{"/api/metrics?format=text", "/api/metrics?format=text", "/api/metrics", "/api/tools", "/api/metrics?format=text"} {
			body := request(target)
			if n := cache.builds.Load(); n != sample {
				t.Fatalf("sample %d, after %s: %d reports built, want %d", sample, target, n, sample)
			}
			var want bytes.Buffer
			if err := report.Latest(m).WriteText(&want); err != nil {
				t.Fatal(err)
			}
			if target == "/api/metrics?format=text" && !bytes.Equal(body, want.Bytes()) {
				t.Errorf("text of the cache differs from the report's:\n%s\nwant\n%s", body, want.Bytes())
			}
		}
		m.Sample(t.Context())
	}
}

// The stream sends each sample as itself: while a request builds the
// report of a sample that just landed, a request gets the previous report,
// but the stream waits for the one of its sample, or it would send the
// previous sample twice and this one never.
func TestStreamWaitsForItsSample(t *testing.T) {
	m := monitor.New(monitor.Options{DisableSystem: true})
	cache := &reportCache{m: m}
	cache.of(m.Sample(t.Context()))
	// A request gets ahead of the stream only now and then: try often.
	for range 50 {
		s := m.Sample(t.Context())
		cache.mu.Lock() // a request building the report of s
		got := make(chan uint64)
		go func() { got <- cache.of(s).seq }()
		for range 10 {
			runtime.Gosched() // let the stream ask while the build runs
		}
		if r := cache.latest(); r.seq != s.Seq-1 {
			t.Fatalf("a request during the build got the report of sample %d, want the previous one, %d", r.seq, s.Seq-1)
		}
		cache.mu.Unlock()
		if seq := <-got; seq != s.Seq {
			t.Fatalf("the stream got the report of sample %d for sample %d", seq, s.Seq)
		}
	}
}
