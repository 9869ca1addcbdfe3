package telemetry

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// keepingClient is an OTLP exporter client that keeps a copy of each
// batch's records, as they were when sent.
type keepingClient struct {
	mu      sync.Mutex
	batches [][]*tracepb.ResourceSpans
}

func (c *keepingClient) Start(context.Context) error { return nil }
func (c *keepingClient) Stop(context.Context) error  { return nil }
func (c *keepingClient) UploadTraces(_ context.Context, rs []*tracepb.ResourceSpans) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var kept []*tracepb.ResourceSpans
	for _, r := range rs {
		kept = append(kept, proto.Clone(r).(*tracepb.ResourceSpans))
	}
	c.batches = append(c.batches, kept)
	return nil
}

// opSink keeps the ops that end.
type opSink struct{ ops []*Op }

func (s *opSink) put(o *Op)                        { s.ops = append(s.ops, o) }
func (s *opSink) ForceFlush(context.Context) error { return nil }
func (s *opSink) Shutdown(context.Context) error   { return nil }

// TestRecordsAreTheSDKs: the OTLP records otlpUploader sends are the
// ones the SDK's OTLP exporter builds from the same spans, for spans of
// every shape (kinds, parents remote and local, trace state, links,
// failures, payloads, limits that cut and drop attributes) and a
// resource of every attribute kind; and stay so batch after batch, the
// records of one reused for the next.
func TestRecordsAreTheSDKs(t *testing.T) {
	sink := &opSink{}
	tel, err := newWithSink(Options{Version: "1.2.3", CapturePayloads: true}, sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Schema URLs and scope attributes too, which pbatunnel's own
	// resource and scope may come to have.
	tel.scope.SchemaURL = "https://opentelemetry.io/schemas/1.26.0"
	tel.scope.Attributes = attribute.NewSet(attribute.String("scope.attr", "x"))
	tel.res = resource.NewWithAttributes("https://opentelemetry.io/schemas/1.26.0", attribute.String("service.name", "svc"), attribute.Bool("b", true), attribute.Int("i", 3),
		attribute.Float64("f", 1.5), attribute.StringSlice("ss", []string{"x", "y"}), attribute.IntSlice("is", []int{1, 2}),
		attribute.BoolSlice("bs", []bool{true}), attribute.Float64Slice("fs", []float64{0.5}))
	ts, _ := trace.ParseTraceState("vendor=v1")
	remote := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled, TraceState: ts, Remote: true})
	link := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{3}, SpanID: trace.SpanID{4}, TraceFlags: trace.FlagsSampled, Remote: true})
	start := time.Unix(1_700_000_000, 123)
	span := func(parent trace.SpanContext, r Request, out Outcome) {
		ctx := context.Background()
		if parent.IsValid() {
			ctx = trace.ContextWithRemoteSpanContext(ctx, parent)
		}
		r.Start, out.End = start, start.Add(1500*time.Microsecond)
		_, op := tel.Start(ctx, r)
		op.End(context.Background(), out)
	}
	batches := [][]func(){{
		func() {
			span(remote, Request{Kind: Server, Method: "tools/call", Target: "search", ID: "7", Session: "s1", Protocol: "2025-06-18",
				Transport: TransportTCP, Peer: "127.0.0.1:5000", Arguments: `{"q":"x"}`, Link: link}, Outcome{Result: `{"content":[]}`})
		},
		func() {
			span(remote, Request{Kind: Client, Method: "tools/call", Target: "search", ID: "7", Transport: TransportPipe, Peer: "[::1]:9"},
				Outcome{ErrorType: "tool_error", Message: "it failed"})
		},
		func() {
			span(trace.SpanContext{}, Request{Kind: Server, Method: "resources/read", URI: "file:///a", ID: "x"},
				Outcome{ErrorType: "-32602", Message: "bad params"})
		},
	}, {
		func() {
			span(trace.SpanContext{}, Request{Kind: Client, Method: "ping"}, Outcome{ErrorType: "-32601", Message: "no"})
		},
		func() {
			// The limits apply as the batch is exported.
			tel.limits.AttributeValueLengthLimit, tel.limits.AttributeCountLimit = 4, 2
			span(remote, Request{Kind: Server, Method: "prompts/get", Target: "a long prompt name", Session: strings.Repeat("é", 9), Transport: TransportTCP}, Outcome{})
		},
	}}

	ours := &keepingClient{}
	up, err := newOTLPUploader(context.Background(), ours, tel.res, tel.scope)
	if err != nil {
		t.Fatal(err)
	}
	sdks := &keepingClient{}
	exp := otlptrace.NewUnstarted(sdks)
	for _, batch := range batches {
		sink.ops = nil
		for _, f := range batch {
			f()
		}
		if err := up.upload(context.Background(), sink.ops); err != nil {
			t.Fatal(err)
		}
		var spans []sdktrace.ReadOnlySpan
		for _, o := range sink.ops {
			s, _ := o.snapshot(nil)
			spans = append(spans, s)
		}
		if err := exp.ExportSpans(context.Background(), spans); err != nil {
			t.Fatal(err)
		}
	}
	if len(ours.batches) != len(batches) || len(sdks.batches) != len(batches) {
		t.Fatalf("%d and %d batches sent, want %d", len(ours.batches), len(sdks.batches), len(batches))
	}
	for i := range batches {
		got, want := ours.batches[i], sdks.batches[i]
		if len(got) != 1 || len(want) != 1 || !proto.Equal(got[0], want[0]) {
			t.Errorf("batch %d:\n ours %v\n the SDK's %v", i, got, want)
		}
	}
}

// TestRecordsScope: a scope without a name or version is no record, as
// the SDK's exporter has it.
func TestRecordsScope(t *testing.T) {
	if r := newRecords(nil, instrumentation.Scope{}); r.list[0].Resource != nil || r.scope.Scope != nil {
		t.Errorf("records of no resource and scope: %v", r.list[0])
	}
}

// TestRecordsKeepNothing: once a batch is sent, the records kept for the
// next hold none of its strings, those of the attributes the count limit
// dropped (a captured payload, the last) among them; nor does the
// attribute buffer of the SDK exporters' path.
func TestRecordsKeepNothing(t *testing.T) {
	sink := &opSink{}
	tel, err := newWithSink(Options{CapturePayloads: true}, sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	tel.limits.AttributeCountLimit = 2
	payload := strings.Repeat("p", 1000)
	for range 3 {
		_, op := tel.Start(context.Background(), Request{Kind: Server, Method: "tools/call", Target: "search", ID: "7",
			Session: "s1", Transport: TransportTCP, Peer: "127.0.0.1:5000", Arguments: payload, Start: time.Now()})
		op.End(context.Background(), Outcome{End: time.Now(), Result: payload, ErrorType: "tool_error", Message: "failed"})
	}
	up, err := newOTLPUploader(context.Background(), &keepingClient{}, tel.res, tel.scope)
	if err != nil {
		t.Fatal(err)
	}
	if err := up.upload(context.Background(), sink.ops); err != nil {
		t.Fatal(err)
	}
	r := &up.rec
	for i, a := range r.attrs[:cap(r.attrs)] {
		if a.Key != "" || a.Value.Type() != attribute.INVALID {
			t.Errorf("attribute buffer [%d] still holds %s", i, a.Key)
		}
	}
	for _, s := range r.spans.items {
		if s.Name != "" || s.TraceState != "" || len(s.Attributes) != 0 || s.Status != nil || s.Links != nil {
			t.Errorf("span record still holds %v", s)
		}
		for _, kv := range s.Attributes[:cap(s.Attributes)] {
			if kv != nil && kv.Key != "" {
				t.Errorf("span record's attributes still hold %s", kv.Key)
			}
		}
	}
	for _, kv := range r.kvs.items {
		if kv.Key != "" || kv.Value != nil {
			t.Errorf("attribute record still holds %v", kv)
		}
	}
	for _, s := range r.strs.items {
		if s.StringValue != "" {
			t.Errorf("string record still holds %q", s.StringValue)
		}
	}
	for _, s := range r.stats.items {
		if s.Message != "" {
			t.Errorf("status record still holds %q", s.Message)
		}
	}
	for _, s := range r.scope.Spans[:cap(r.scope.Spans)] {
		if s != nil {
			t.Errorf("scope still lists %v", s)
		}
	}

	exp := &spanExporter{exp: &keepingExporter{}}
	if err := exp.upload(context.Background(), sink.ops); err != nil {
		t.Fatal(err)
	}
	for i, a := range exp.attrs[:cap(exp.attrs)] {
		if a.Key != "" || a.Value.Type() != attribute.INVALID {
			t.Errorf("exporter's attribute buffer [%d] still holds %s", i, a.Key)
		}
	}
}

// TestShutdownTwice: a second Shutdown, after the exporter's client has
// stopped, is no error, over gRPC as over HTTP: the SDK's exporter stops
// its client once, and the gRPC client refuses a second stop.
func TestShutdownTwice(t *testing.T) {
	for _, protocol := range []string{ProtocolHTTP, ProtocolGRPC} {
		t.Run(protocol, func(t *testing.T) {
			tel, err := New(context.Background(), Options{Endpoint: "http://127.0.0.1:1", Protocol: protocol,
				Getenv: func(k string) string {
					if k == "OTEL_METRICS_EXPORTER" {
						return "none"
					}
					return ""
				}})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				err := tel.Shutdown(ctx)
				cancel()
				if err != nil {
					t.Errorf("Shutdown %d: %v", i+1, err)
				}
			}
		})
	}
}
