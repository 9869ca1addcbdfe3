package telemetry

import (
	"context"
	"sync"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// finishing is a Telemetry whose spans go out in batches to a keeping
// exporter (queue of queueSize, never woken by its timer) and whose
// metrics a manual reader reads.
func finishing(t *testing.T, queueSize int) (*Telemetry, *keepingExporter, *sdkmetric.ManualReader) {
	t.Helper()
	exp := &keepingExporter{}
	b := newBatcher(&spanExporter{exp: exp}, batching{QueueSize: queueSize, BatchSize: 512, ScheduleDelay: time.Hour, ExportTimeout: time.Second}, nil)
	reader := sdkmetric.NewManualReader()
	tel, err := newWithSink(Options{}, b, reader)
	if err != nil {
		t.Fatal(err)
	}
	tel.batch = b
	return tel, exp, reader
}

// finishCalls finishes n tools/calls through tel, as the proxy does.
func finishCalls(tel *Telemetry, n int) {
	for range n {
		p := tel.Decide(Parent{})
		start := time.Now()
		tel.Finish(&p, Request{Kind: Server, Method: "tools/call", Target: "echo", Start: start}, "127.0.0.1:9", Outcome{End: start.Add(time.Millisecond)})
	}
}

// durations is how many durations of each kind reader holds.
func durations(t *testing.T, reader *sdkmetric.ManualReader) (server, client uint64) {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	count := func(name string) uint64 {
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				if m.Name == name {
					var n uint64
					for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
						n += dp.Count
					}
					return n
				}
			}
		}
		return 0
	}
	return count(MetricServerOperation), count(MetricClientOperation)
}

func (e *keepingExporter) spans() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, b := range e.batches {
		n += len(b)
	}
	return n
}

// TestFinishLater: a finished request's spans and durations are made off
// its way, and are all there after ForceFlush.
func TestFinishLater(t *testing.T) {
	tel, exp, reader := finishing(t, 2048)
	defer tel.Shutdown(context.Background())
	finishCalls(tel, 10)
	if s, c := durations(t, reader); s != 0 || c != 0 || exp.spans() != 0 {
		t.Errorf("before a flush: %d and %d durations, %d spans; want them made later", s, c, exp.spans())
	}
	if err := tel.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s, c := durations(t, reader); s != 10 || c != 10 || exp.spans() != 20 {
		t.Errorf("after a flush: %d and %d durations, %d spans; want 10, 10, 20", s, c, exp.spans())
	}
}

// TestFinishLosesNoDuration: with a span queue far too small, spans are
// dropped and counted, and not one duration is lost.
func TestFinishLosesNoDuration(t *testing.T) {
	tel, exp, reader := finishing(t, 4)
	defer tel.Shutdown(context.Background())
	finishCalls(tel, 100)
	if err := tel.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := tel.batch
	if s, c := durations(t, reader); s != 100 || c != 100 {
		t.Errorf("%d and %d durations of 100 calls", s, c)
	}
	if got := uint64(exp.spans()) + st.dropped.Load(); got != 200 || st.dropped.Load() == 0 {
		t.Errorf("%d spans exported and %d dropped; want 200 in all, some dropped", exp.spans(), st.dropped.Load())
	}
}

// TestFinishWakes: a batch's worth of finished requests wakes the
// exporting goroutine, whose timer would not for an hour.
func TestFinishWakes(t *testing.T) {
	tel, exp, _ := finishing(t, 2048)
	defer tel.Shutdown(context.Background())
	finishCalls(tel, 256) // 512 spans: a batch
	deadline := time.Now().Add(10 * time.Second)
	for exp.spans() < 512 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if exp.spans() < 512 {
		t.Errorf("%d spans exported of a batch's worth of requests", exp.spans())
	}
}

// TestFinishAtShutdown: what is still to be made at shutdown is made and
// sent, and a request finished after it is finished at once.
func TestFinishAtShutdown(t *testing.T) {
	tel, exp, _ := finishing(t, 2048)
	finishCalls(tel, 5)
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if exp.spans() != 10 {
		t.Errorf("%d spans sent at shutdown, want 10", exp.spans())
	}
	finishCalls(tel, 1) // the queue is closed: dropped and counted, not kept
	if d := tel.batch.dropped.Load(); d != 2 {
		t.Errorf("%d spans dropped after shutdown, want 2", d)
	}
}

// TestEndingsBounded: while the exporting goroutine is held up, no more
// requests wait than the limit; the others are for their callers to
// finish, and nothing is lost.
func TestEndingsBounded(t *testing.T) {
	e := newEndings(512, 3)
	var f finished
	for i := range 5 {
		if got, want := e.add(&f), i < 3; got != want {
			t.Fatalf("add %d: %v, want %v", i, got, want)
		}
	}
	e.end() // a zero request makes no spans
	if !e.add(&f) {
		t.Error("room again once the waiting were ended, and add refused")
	}
}

// countingExporter keeps the durations' counts of the last export.
type countingExporter struct {
	mu             sync.Mutex
	server, client uint64
}

func (e *countingExporter) Temporality(k sdkmetric.InstrumentKind) metricdata.Temporality {
	return sdkmetric.DefaultTemporalitySelector(k)
}

func (e *countingExporter) Aggregation(k sdkmetric.InstrumentKind) sdkmetric.Aggregation {
	return sdkmetric.DefaultAggregationSelector(k)
}

func (e *countingExporter) Export(_ context.Context, rm *metricdata.ResourceMetrics) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			h, ok := m.Data.(metricdata.Histogram[float64])
			if !ok {
				continue
			}
			var n uint64
			for _, dp := range h.DataPoints {
				n += dp.Count
			}
			switch m.Name {
			case MetricServerOperation:
				e.server = n
			case MetricClientOperation:
				e.client = n
			}
		}
	}
	return nil
}

func (e *countingExporter) ForceFlush(context.Context) error { return nil }
func (e *countingExporter) Shutdown(context.Context) error   { return nil }

// TestShutdownWaitsForEndings: requests the exporting goroutine has
// taken, and is still making into spans and durations, are done before
// the metrics' last export at Shutdown; not one duration is missing
// from it.
func TestShutdownWaitsForEndings(t *testing.T) {
	const n = 4096 // a batch's worth: the exporting goroutine is woken
	for round := range 5 {
		exp := &countingExporter{}
		b := newBatcher(&spanExporter{exp: &keepingExporter{}}, batching{QueueSize: 2 * n, BatchSize: 2 * n, ScheduleDelay: time.Hour, ExportTimeout: time.Second}, nil)
		tel, err := newWithSink(Options{}, b, sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour)))
		if err != nil {
			t.Fatal(err)
		}
		tel.batch = b
		finishCalls(tel, n)
		// Until the exporting goroutine has taken them.
		for {
			b.ends.mu.Lock()
			waiting := len(b.ends.list)
			b.ends.mu.Unlock()
			if waiting == 0 {
				break
			}
			time.Sleep(10 * time.Microsecond)
		}
		if err := tel.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		exp.mu.Lock()
		s, c := exp.server, exp.client
		exp.mu.Unlock()
		if s != n || c != n {
			t.Fatalf("round %d: %d and %d durations in the last export of %d calls", round, s, c, n)
		}
	}
}
