package telemetry

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// retryingCollector refuses the first attempt of every export, as a
// collector that is busy does, and keeps what each attempt carried.
type retryingCollector struct {
	coltracepb.UnimplementedTraceServiceServer
	mu       sync.Mutex
	attempts []*coltracepb.ExportTraceServiceRequest
}

// take keeps a copy of req, and reports whether this attempt is to be
// refused (every other one, the first of each export).
func (c *retryingCollector) take(req *coltracepb.ExportTraceServiceRequest) (refuse bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.attempts = append(c.attempts, proto.Clone(req).(*coltracepb.ExportTraceServiceRequest))
	return len(c.attempts)%2 == 1
}

func (c *retryingCollector) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	if c.take(req) {
		return nil, status.Error(codes.Unavailable, "busy")
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

func (c *retryingCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	req := new(coltracepb.ExportTraceServiceRequest)
	if err == nil {
		err = proto.Unmarshal(body, req)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if c.take(req) {
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// TestRecordsThroughTheClients: the SDK's own OTLP clients, over HTTP and
// gRPC, to a collector that refuses each export once, deliver the records
// of batch after batch, the records of one reused for the next, as the
// SDK's exporter builds them: every attempt, the retry too, carries its
// batch's spans and nothing of another's. A client that kept the records
// past UploadTraces, or sent them after, would carry a later batch's
// spans or emptied ones.
func TestRecordsThroughTheClients(t *testing.T) {
	collector := &retryingCollector{}
	httpSrv := httptest.NewServer(collector)
	defer httpSrv.Close()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	grpcSrv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(grpcSrv, collector)
	served := make(chan error, 1)
	go func() { served <- grpcSrv.Serve(lis) }()
	defer func() {
		grpcSrv.Stop()
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()

	clients := map[string]func() otlptrace.Client{
		ProtocolHTTP: func() otlptrace.Client {
			return otlptracehttp.NewClient(otlptracehttp.WithEndpointURL(httpSrv.URL+"/v1/traces"),
				otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: true, InitialInterval: time.Millisecond,
					MaxInterval: time.Millisecond, MaxElapsedTime: 10 * time.Second}))
		},
		ProtocolGRPC: func() otlptrace.Client {
			return otlptracegrpc.NewClient(otlptracegrpc.WithEndpointURL("http://"+lis.Addr().String()),
				otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: true, InitialInterval: time.Millisecond,
					MaxInterval: time.Millisecond, MaxElapsedTime: 10 * time.Second}))
		},
	}
	for _, protocol := range []string{ProtocolHTTP, ProtocolGRPC} {
		t.Run(protocol, func(t *testing.T) {
			collector.mu.Lock()
			collector.attempts = nil
			collector.mu.Unlock()
			sink := &opSink{}
			tel, err := newWithSink(Options{Version: "1.2.3", CapturePayloads: true}, sink, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			up, err := newOTLPUploader(ctx, clients[protocol](), tel.res, tel.scope)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := up.Shutdown(ctx); err != nil {
					t.Error(err)
				}
			}()
			sdks := &keepingClient{}
			exp := otlptrace.NewUnstarted(sdks)
			sizes := []int{3, 1, 4, 2}
			for b, n := range sizes {
				sink.ops = nil
				for i := range n {
					start := time.Unix(1_700_000_000+int64(b), int64(i))
					r := Request{Kind: Kind(i % 2), Method: "tools/call", Target: fmt.Sprintf("tool-%d-%d", b, i), ID: fmt.Sprint(i),
						Transport: TransportTCP, Peer: "127.0.0.1:5000", Arguments: strings.Repeat("a", 10*b+i), Start: start}
					_, op := tel.Start(ctx, r)
					op.End(ctx, Outcome{End: start.Add(time.Millisecond), Result: fmt.Sprintf("result %d %d", b, i)})
				}
				if err := up.upload(ctx, sink.ops); err != nil {
					t.Fatalf("batch %d: %v", b, err)
				}
				var spans []sdktrace.ReadOnlySpan
				for _, o := range sink.ops {
					s, _ := o.snapshot(nil)
					spans = append(spans, s)
				}
				if err := exp.ExportSpans(ctx, spans); err != nil {
					t.Fatal(err)
				}
			}
			collector.mu.Lock()
			defer collector.mu.Unlock()
			if len(collector.attempts) != 2*len(sizes) {
				t.Fatalf("%d attempts for %d batches each refused once", len(collector.attempts), len(sizes))
			}
			for i, got := range collector.attempts {
				want := &coltracepb.ExportTraceServiceRequest{ResourceSpans: sdks.batches[i/2]}
				if !proto.Equal(got, want) {
					t.Errorf("batch %d, attempt %d:\n sent %v\n the SDK's %v", i/2, i%2+1, got, want)
				}
			}
		})
	}
}
