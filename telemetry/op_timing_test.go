package telemetry

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// discardClient is an OTLP exporter client that sends nothing.
type discardClient struct{}

func (discardClient) Start(context.Context) error                                  { return nil }
func (discardClient) Stop(context.Context) error                                   { return nil }
func (discardClient) UploadTraces(context.Context, []*tracepb.ResourceSpans) error { return nil }

// BenchmarkProxyOp is what tracing does per request in the proxy: the
// caller's context read, the two spans decided and the context to hand on
// written (on the request's way), then the SERVER and CLIENT spans made,
// both ended, both durations recorded (once it is over); the spans batched
// and turned into OTLP records for a client that discards them, the
// metrics kept for a reader.
func BenchmarkProxyOp(b *testing.B) {
	up, err := newOTLPUploader(context.Background(), discardClient{}, resource.Default(), instrumentation.Scope{Name: ScopeName})
	if err != nil {
		b.Fatal(err)
	}
	bat := newBatcher(up, batching{QueueSize: 2048, BatchSize: 512, ScheduleDelay: 200 * time.Millisecond, ExportTimeout: time.Second}, nil)
	tel, err := newWithSink(Options{}, bat, sdkmetric.NewManualReader())
	if err != nil {
		b.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	meta := [3]string{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		now := time.Now()
		parent := ParentOf(meta, nil)
		r := Request{Kind: Server, Method: "tools/call", Target: "echo", Start: now, ID: "7", Transport: TransportPipe}
		pair := tel.Decide(parent)
		_ = pair.Carried()
		s, c := pair.Ops(r, "")
		out := Outcome{End: time.Now()}
		c.End(ctx, out)
		s.End(ctx, out)
	}
}
