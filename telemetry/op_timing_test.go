package telemetry

import (
	"context"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

// BenchmarkProxyOp is what tracing does per request in the proxy: a
// SERVER span from the caller's context, a CLIENT span, the context to
// hand on, both ended, both durations recorded; the spans batched to an
// exporter that discards them, the metrics kept for a reader.
func BenchmarkProxyOp(b *testing.B) {
	bat := newBatcher(discardExporter{}, batching{QueueSize: 2048, BatchSize: 512, ScheduleDelay: 200 * time.Millisecond, ExportTimeout: time.Second}, nil)
	tel, err := newWithSink(Options{}, bat, sdkmetric.NewManualReader())
	if err != nil {
		b.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	meta := map[string]any{MetaTraceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
	b.ReportAllocs()
	for b.Loop() {
		now := time.Now()
		parent, _ := Extract(context.Background(), meta, nil)
		r := Request{Kind: Server, Method: "tools/call", Target: "echo", Start: now, ID: "7", Transport: TransportPipe}
		sctx, s := tel.Start(parent, r)
		r.Kind = Client
		cctx, c := tel.Start(sctx, r)
		_ = Inject(cctx)
		out := Outcome{End: time.Now()}
		c.End(cctx, out)
		s.End(sctx, out)
	}
}
