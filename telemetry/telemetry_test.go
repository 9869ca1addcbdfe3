package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func attrsOf(kvs []attribute.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.Emit()
	}
	return m
}

// TestServerSpan: a tools/call span joins the caller's trace from _meta,
// carries the conventions' attributes, and fails with error.type; the
// duration metric has no session id.
func TestServerSpan(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	reader := sdkmetric.NewManualReader()
	tel, err := NewWith(Options{}, rec, reader)
	if err != nil {
		t.Fatal(err)
	}
	const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	ctx, _ := Extract(context.Background(), map[string]any{MetaTraceparent: parent, "progressToken": 1}, nil)
	start := time.Now()
	_, op := tel.Start(ctx, Request{Kind: Server, Method: "tools/call", Target: "search", Start: start,
		ID: "7", Session: "S1", Protocol: "2025-06-18", Transport: TransportTCP, Peer: "127.0.0.1:5123"})
	op.End(ctx, Outcome{End: start.Add(3 * time.Millisecond), ErrorType: "tool_error", Message: "no such thing"})

	spans := rec.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans", len(spans))
	}
	s := spans[0]
	if s.Name() != "tools/call search" || s.SpanKind() != trace.SpanKindServer {
		t.Errorf("span %q kind %v", s.Name(), s.SpanKind())
	}
	if s.Parent().TraceID().String() != "0af7651916cd43dd8448eb211c80319c" || s.Parent().SpanID().String() != "b7ad6b7169203331" || !s.Parent().IsRemote() {
		t.Errorf("parent %v", s.Parent())
	}
	want := map[string]string{
		AttrMethod: "tools/call", AttrToolName: "search", AttrOperation: "execute_tool", AttrRequestID: "7",
		AttrSession: "S1", AttrProtocol: "2025-06-18", AttrNetworkTransport: "tcp", AttrNetworkProtocol: "http",
		AttrClientAddress: "127.0.0.1", AttrClientPort: "5123", AttrErrorType: "tool_error",
	}
	got := attrsOf(s.Attributes())
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := got[AttrStatusCode]; ok {
		t.Error("a tool error has no JSON-RPC status code")
	}
	if _, ok := got[AttrToolArguments]; ok {
		t.Error("arguments recorded without payload capture")
	}
	if s.Status().Code != codes.Error || s.EndTime().Sub(s.StartTime()) != 3*time.Millisecond {
		t.Errorf("status %v, duration %v", s.Status(), s.EndTime().Sub(s.StartTime()))
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	h := findHistogram(t, rm, MetricServerOperation)
	if len(h.DataPoints) != 1 || h.DataPoints[0].Count != 1 {
		t.Fatalf("data points %+v", h.DataPoints)
	}
	dp := h.DataPoints[0]
	if _, ok := dp.Attributes.Value(AttrSession); ok {
		t.Error("the session id is a metric attribute")
	}
	if v, _ := dp.Attributes.Value(AttrToolName); v.AsString() != "search" {
		t.Errorf("metric attributes %v", dp.Attributes.ToSlice())
	}
	if dp.Sum != 0.003 || len(dp.Bounds) != len(Buckets) {
		t.Errorf("sum %v, bounds %v", dp.Sum, dp.Bounds)
	}
}

func findHistogram(t *testing.T, rm metricdata.ResourceMetrics, name string) metricdata.Histogram[float64] {
	t.Helper()
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				if m.Unit != "s" {
					t.Errorf("%s unit %q", name, m.Unit)
				}
				return m.Data.(metricdata.Histogram[float64])
			}
		}
	}
	t.Fatalf("no metric %s", name)
	return metricdata.Histogram[float64]{}
}

// TestClientSpanIsInjected: a CLIENT span started in a SERVER span's
// context is its child, and its context hands on the CLIENT span's context;
// a JSON-RPC error sets the status code too.
func TestClientSpanIsInjected(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tel, err := NewWith(Options{CapturePayloads: true}, rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ctx, srv := tel.Start(context.Background(), Request{Kind: Server, Method: "prompts/get", Target: "greet", Start: now, Transport: TransportPipe})
	cctx, cli := tel.Start(ctx, Request{Kind: Client, Method: "prompts/get", Target: "greet", Start: now, Peer: "example.com:443", Arguments: `{"a":1}`})
	meta := inject(cctx)
	cli.End(cctx, Outcome{End: now, ErrorType: "-32602", Message: "bad"})
	srv.End(ctx, Outcome{End: now, ErrorType: "-32602"})
	spans := rec.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans", len(spans))
	}
	c, s := spans[0], spans[1]
	if c.Parent().SpanID() != s.SpanContext().SpanID() || c.SpanKind() != trace.SpanKindClient {
		t.Errorf("client span's parent %v, server span %v", c.Parent().SpanID(), s.SpanContext().SpanID())
	}
	if want := "00-" + c.SpanContext().TraceID().String() + "-" + c.SpanContext().SpanID().String() + "-01"; meta.Traceparent != want {
		t.Errorf("injected %v, want traceparent %s", meta, want)
	}
	got := attrsOf(c.Attributes())
	if got[AttrPromptName] != "greet" || got[AttrServerAddress] != "example.com" || got[AttrServerPort] != "443" ||
		got[AttrStatusCode] != "-32602" || got[AttrToolArguments] != `{"a":1}` || got[AttrNetworkTransport] != "" {
		t.Errorf("client attributes %v", got)
	}
	if attrsOf(s.Attributes())[AttrNetworkTransport] != "pipe" {
		t.Errorf("server attributes %v", attrsOf(s.Attributes()))
	}
}

// TestExtractFromHeaders: Streamable HTTP carries trace context in
// headers when _meta has none; _meta wins when it has.
func TestExtractFromHeaders(t *testing.T) {
	h := http.Header{}
	h.Set("traceparent", "00-11111111111111111111111111111111-2222222222222222-01")
	ctx, link := Extract(context.Background(), nil, h)
	if sc := trace.SpanContextFromContext(ctx); sc.TraceID().String() != "11111111111111111111111111111111" || link.IsValid() {
		t.Errorf("from headers: %v, link %v", sc, link)
	}
	ctx, link = Extract(context.Background(), map[string]any{MetaTraceparent: "00-33333333333333333333333333333333-4444444444444444-01"}, h)
	if sc := trace.SpanContextFromContext(ctx); sc.TraceID().String() != "33333333333333333333333333333333" {
		t.Errorf("_meta should win: %v", sc)
	}
	if link.TraceID().String() != "11111111111111111111111111111111" {
		t.Errorf("the headers' context should be linked: %v", link)
	}
	if ctx, _ := Extract(context.Background(), map[string]any{MetaTraceparent: "garbage"}, nil); trace.SpanContextFromContext(ctx).IsValid() {
		t.Error("garbage made a context")
	}
	// A traceparent in _meta that does not parse names no parent: the
	// headers' does.
	ctx, link = Extract(context.Background(), map[string]any{MetaTraceparent: "garbage"}, h)
	if sc := trace.SpanContextFromContext(ctx); sc.TraceID().String() != "11111111111111111111111111111111" || link.IsValid() {
		t.Errorf("garbage in _meta hid the headers' context: %v, link %v", sc, link)
	}
}

// TestServerStatus: a SERVER span fails for the server's own errors, not
// for the caller's mistakes, which still carry error.type; a CLIENT span
// fails for both.
func TestServerStatus(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tel, err := NewWith(Options{}, rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		kind      Kind
		errorType string
		want      codes.Code
	}{
		{Server, "-32602", codes.Unset}, {Server, "-32601", codes.Unset}, {Server, "-32603", codes.Error},
		{Server, "tool_error", codes.Error}, {Server, "cancelled", codes.Error}, {Server, "", codes.Unset},
		{Client, "-32602", codes.Error},
	} {
		ctx, op := tel.Start(context.Background(), Request{Kind: tt.kind, Method: "tools/call", Start: time.Now()})
		op.End(ctx, Outcome{End: time.Now(), ErrorType: tt.errorType})
		s := rec.Ended()[len(rec.Ended())-1]
		if s.Status().Code != tt.want || (tt.errorType != "" && attrsOf(s.Attributes())[AttrErrorType] != tt.errorType) {
			t.Errorf("kind %v, %q: status %v, attributes %v", tt.kind, tt.errorType, s.Status().Code, attrsOf(s.Attributes()))
		}
	}
}

// TestNilIsOff: a nil Telemetry does nothing, safely.
func TestNilIsOff(t *testing.T) {
	var tel *Telemetry
	ctx, op := tel.Start(context.Background(), Request{Method: "ping"})
	op.End(ctx, Outcome{})
	tel.SessionEnded(ctx, Server, time.Second, "", "")
	if op.SpanContext().IsValid() || tel.Tracing() || tel.Stats() != (Stats{}) || tel.Shutdown(ctx) != nil {
		t.Error("a nil Telemetry did something")
	}
}

func TestResolve(t *testing.T) {
	for _, tt := range []struct {
		name           string
		o              Options
		env            map[string]string
		traces, metric bool
		proto          string
		endpoint       string // the traces' endpoint given to the exporter
		warns          int
		err            bool
	}{
		{name: "nothing asked"},
		{name: "flag", o: Options{Endpoint: "http://localhost:4318"}, traces: true, metric: true, proto: ProtocolHTTP, endpoint: "http://localhost:4318"},
		{name: "env", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, traces: true, metric: true, proto: ProtocolGRPC},
		{name: "protocol in capitals", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "GRPC"}, traces: true, metric: true, proto: ProtocolGRPC},
		{name: "traces only", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, traces: true, proto: ProtocolHTTP},
		{name: "metrics off", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c", "OTEL_METRICS_EXPORTER": "none"}, traces: true, proto: ProtocolHTTP},
		{name: "disabled", o: Options{Endpoint: "http://c"}, env: map[string]string{"OTEL_SDK_DISABLED": "true"}},
		{name: "flag protocol wins", o: Options{Endpoint: "http://c", Protocol: ProtocolGRPC}, env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, traces: true, metric: true, proto: ProtocolGRPC, endpoint: "http://c"},
		{name: "flag json protocol", o: Options{Endpoint: "http://c", Protocol: "http/json"}, err: true},
		// The environment's mistakes are warned of, never fatal.
		{name: "env json protocol", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, traces: true, metric: true, proto: ProtocolHTTP, warns: 2},
		{name: "bad queue", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c", "OTEL_BSP_MAX_QUEUE_SIZE": "-1"}, traces: true, metric: true, proto: ProtocolHTTP, warns: 1},
		{name: "no scheme", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "localhost:4318"}, traces: true, metric: true, proto: ProtocolHTTP, endpoint: "http://localhost:4318", warns: 1},
		{name: "signal without scheme", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "c:4318"}, warns: 1},
		{name: "console exporter", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c", "OTEL_TRACES_EXPORTER": "console"}, traces: true, metric: true, proto: ProtocolHTTP, warns: 1},
		{name: "delay 0", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c", "OTEL_BSP_SCHEDULE_DELAY": "0"}, traces: true, metric: true, proto: ProtocolHTTP},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var warns []string
			tt.o.Getenv = func(k string) string { return tt.env[k] }
			tt.o.Warn = func(m string) { warns = append(warns, m) }
			s, err := tt.o.resolve()
			if (err != nil) != tt.err {
				t.Fatalf("err %v", err)
			}
			if err != nil {
				return
			}
			if s.tracesOn != tt.traces || s.metricsOn != tt.metric || (tt.traces && s.tracesProtocol != tt.proto) || s.tracesEndpoint != tt.endpoint {
				t.Errorf("%+v", s)
			}
			if len(warns) != tt.warns {
				t.Errorf("warnings %q, want %d", warns, tt.warns)
			}
		})
	}
	o := Options{Getenv: func(k string) string {
		return map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "100", "OTEL_BSP_SCHEDULE_DELAY": "250", "OTEL_METRIC_EXPORT_INTERVAL": "1000"}[k]
	}, Endpoint: "http://c"}
	s, err := o.resolve()
	if err != nil {
		t.Fatal(err)
	}
	if s.batching.QueueSize != 100 || s.batching.BatchSize != 100 || s.batching.ScheduleDelay != 250*time.Millisecond || s.metricInterval != time.Second {
		t.Errorf("batching %+v, interval %v", s.batching, s.metricInterval)
	}
}

func TestBadEndpoint(t *testing.T) {
	if _, err := New(context.Background(), Options{Endpoint: "localhost:4318", Getenv: func(string) string { return "" }}); err == nil {
		t.Error("an endpoint without a scheme was taken")
	}
}

// blockingExporter holds every export until released, failing the ones
// after fail is set.
type blockingExporter struct {
	mu      sync.Mutex
	release chan struct{}
	fail    bool
	got     int
}

func (e *blockingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	<-e.release
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.fail {
		return errors.New("collector says no")
	}
	e.got += len(spans)
	return nil
}

func (e *blockingExporter) Shutdown(context.Context) error { return nil }

// TestBatcherCountsLosses: spans beyond a full queue are dropped and
// counted, never waited for; a refused batch is counted as failed.
func TestBatcherCountsLosses(t *testing.T) {
	exp := &blockingExporter{release: make(chan struct{})}
	var mu sync.Mutex
	told := map[string]uint64{}
	b := newBatcher(&spanExporter{exp: exp}, batching{QueueSize: 4, BatchSize: 2, ScheduleDelay: time.Hour, ExportTimeout: time.Second},
		func(name string, n uint64) { mu.Lock(); told[name] += n; mu.Unlock() })
	tel, err := newWithSink(Options{}, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	span := func(name string) {
		_, op := tel.Start(context.Background(), Request{Kind: Server, Method: name, Start: time.Now()})
		op.End(context.Background(), Outcome{End: time.Now()})
	}
	for range 20 { // the exporter holds the first batch; the queue fills
		span("x")
	}
	if d := b.dropped.Load(); d == 0 {
		t.Fatal("nothing dropped with a queue of 4 and 20 spans")
	}
	close(exp.release)
	if err := b.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	exp.mu.Lock()
	exp.fail = true
	exp.mu.Unlock()
	span("y")
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := Stats{Exported: b.exported.Load(), Dropped: b.dropped.Load(), Failed: b.failed.Load()}
	if st.Exported+st.Dropped+st.Failed != 21 || st.Failed != 1 || uint64(exp.got) != st.Exported {
		t.Errorf("stats %+v, exporter got %d; want all 21 spans accounted for", st, exp.got)
	}
	mu.Lock()
	defer mu.Unlock()
	if told[CounterSpansExported] != st.Exported || told[CounterSpansDropped] != st.Dropped || told[CounterSpansFailed] != st.Failed {
		t.Errorf("counted %v, stats %+v", told, st)
	}
}

// inject is what a request sent on in ctx's span carries: the W3C form
// of its span context (carried, as Pair.Carried writes it) and its
// baggage; for the tests of Start's contexts.
func inject(ctx context.Context) Carried {
	c := carried(trace.SpanContextFromContext(ctx))
	if bag := baggage.FromContext(ctx); c.Traceparent != "" && bag.Len() > 0 {
		c.Baggage = bag.String()
	}
	return c
}

// TestInjectIsThePropagators: carried, with the baggage, writes what OpenTelemetry's own
// propagators write, trace state and baggage included.
func TestInjectIsThePropagators(t *testing.T) {
	for _, in := range []map[string]any{
		{MetaTraceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
		{MetaTraceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"},
		{MetaTraceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", MetaTracestate: "vendor=abc,other=x", MetaBaggage: "user=alice,team=x%20y"},
		{},
	} {
		ctx, _ := Extract(context.Background(), in, nil)
		want := propagation.MapCarrier{}
		propagator.Inject(ctx, want)
		got := inject(ctx)
		// Baggage members come in no set order, in either.
		gb, _ := baggage.Parse(got.Baggage)
		wb, _ := baggage.Parse(want[MetaBaggage])
		if got.Traceparent != want[MetaTraceparent] || got.Tracestate != want[MetaTracestate] || !sameBaggage(gb, wb) {
			t.Errorf("%v: carried %+v, propagators %v", in, got, want)
		}
	}
}

// sameBaggage reports whether a and b hold the same members, properties
// included, in any order (a Baggage is a map).
func sameBaggage(a, b baggage.Baggage) bool {
	if a.Len() != b.Len() {
		return false
	}
	for _, m := range a.Members() {
		if b.Member(m.Key()).String() != m.String() {
			return false
		}
	}
	return true
}

// TestSampling: OTEL_TRACES_SAMPLER decides which requests make spans, as
// the SDK's samplers do; a request not sampled still hands its context on,
// flagged so, and its trace id names nothing.
func TestSampling(t *testing.T) {
	const sampled, unsampled = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
	for _, c := range []struct {
		sampler, arg, parent string
		want                 bool
		warned               bool
	}{
		{"", "", "", true, false},
		{"", "", unsampled, false, false}, // parent-based by default
		{"", "", sampled, true, false},
		{"always_off", "", sampled, false, false},
		{"always_on", "", unsampled, true, false},
		{"traceidratio", "0", "", false, false},
		{"parentbased_traceidratio", "0", sampled, true, false},
		{"parentbased_traceidratio", "0", "", false, false},
		{"parentbased_always_off", "", "", false, false},
		{"traceidratio", "2", "", true, true}, // a bad ratio is 1
		{"traceidratio", "NaN", "", true, true},
		{"sometimes", "", "", true, true}, // an unknown sampler is the default
	} {
		env := map[string]string{"OTEL_TRACES_SAMPLER": c.sampler, "OTEL_TRACES_SAMPLER_ARG": c.arg}
		var warned bool
		rec := tracetest.NewSpanRecorder()
		tel, err := NewWith(Options{Getenv: func(k string) string { return env[k] }, Warn: func(string) { warned = true }}, rec, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if c.parent != "" {
			ctx, _ = Extract(ctx, map[string]any{MetaTraceparent: c.parent}, nil)
		}
		sctx, op := tel.Start(ctx, Request{Kind: Server, Method: "ping", Start: time.Now()})
		op.End(sctx, Outcome{End: time.Now()})
		got := len(rec.Ended()) == 1
		carried := inject(sctx).Traceparent
		if got != c.want || warned != c.warned || op.SpanContext().IsValid() != c.want ||
			carried == "" || strings.HasSuffix(carried, "-01") != c.want {
			t.Errorf("%s %q, parent %q: span %v (want %v), warned %v, span context %v, hands on %q",
				c.sampler, c.arg, c.parent, got, c.want, warned, op.SpanContext(), carried)
		}
		if c.parent != "" && !strings.HasPrefix(carried, "00-0af7651916cd43dd8448eb211c80319c-") {
			t.Errorf("%s: the caller's trace is not handed on: %q", c.sampler, carried)
		}
	}
}

// TestSpanIDs: a child shares its parent's trace and names it; ids are
// never zero and never repeat.
func TestSpanIDs(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tel, err := NewWith(Options{}, rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[trace.SpanID]bool{}
	for range 1000 {
		sctx, s := tel.Start(context.Background(), Request{Kind: Server, Method: "tools/call", Start: time.Now()})
		_, c := tel.Start(sctx, Request{Kind: Client, Method: "tools/call", Start: time.Now()})
		sc, cc := s.SpanContext(), c.SpanContext()
		if !sc.IsValid() || cc.TraceID() != sc.TraceID() || seen[sc.SpanID()] || seen[cc.SpanID()] || sc.SpanID() == cc.SpanID() {
			t.Fatalf("server %v, client %v", sc, cc)
		}
		seen[sc.SpanID()], seen[cc.SpanID()] = true, true
		c.End(sctx, Outcome{End: time.Now()})
		s.End(sctx, Outcome{End: time.Now()})
	}
	for _, sp := range rec.Ended() {
		if sp.SpanKind() == trace.SpanKindClient && !seen[sp.Parent().SpanID()] {
			t.Fatalf("client span's parent %v is no span made here", sp.Parent())
		}
		if sp.SpanKind() == trace.SpanKindServer && sp.Parent().IsValid() {
			t.Fatalf("a root span has parent %v", sp.Parent())
		}
	}
}

// TestSpanLimits: the span limits of the environment apply, as the SDK's
// tracer applied them: a long value cut by characters, attributes past
// the count dropped and counted.
func TestSpanLimits(t *testing.T) {
	t.Setenv("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "5")
	t.Setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "4")
	rec := tracetest.NewSpanRecorder()
	tel, err := NewWith(Options{CapturePayloads: true}, rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, op := tel.Start(context.Background(), Request{Kind: Server, Method: "tools/call", Target: "search", Start: time.Now(),
		ID: "7", Session: "S1", Arguments: `{"q":"ééééééé"}`})
	op.End(context.Background(), Outcome{End: time.Now()})
	s := rec.Ended()[0]
	a := attrsOf(s.Attributes())
	if len(s.Attributes()) != 4 || s.DroppedAttributes() != 2 || a[AttrMethod] != "tools" || a[AttrToolName] != "searc" {
		t.Errorf("attributes %v, %d dropped", a, s.DroppedAttributes())
	}
	if got := cutRunes(`{"q":"ééé`, 7); got != `{"q":"é` {
		t.Errorf("cutRunes %q", got)
	}
}

// keepingExporter keeps copies of what it is given at ExportSpans, in
// batches: an exporter may keep nothing of a batch past ExportSpans.
type keepingExporter struct {
	mu      sync.Mutex
	batches [][]tracetest.SpanStub
}

func (e *keepingExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	stubs := tracetest.SpanStubsFromReadOnlySpans(spans)
	for i := range stubs {
		stubs[i].Attributes = slices.Clone(stubs[i].Attributes)
	}
	e.batches = append(e.batches, stubs)
	return nil
}

func (e *keepingExporter) Shutdown(context.Context) error { return nil }

// TestBatcherAttributes: spans exported in batches, whose attributes are
// built in one buffer, each carry their own.
func TestBatcherAttributes(t *testing.T) {
	exp := &keepingExporter{}
	b := newBatcher(&spanExporter{exp: exp}, batching{QueueSize: 64, BatchSize: 3, ScheduleDelay: time.Hour, ExportTimeout: time.Second}, nil)
	tel, err := newWithSink(Options{}, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		id := strconv.Itoa(i)
		_, op := tel.Start(context.Background(), Request{Kind: Server, Method: "tools/call", Target: "t" + id, ID: id, Start: time.Now()})
		op.End(context.Background(), Outcome{End: time.Now()})
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, batch := range exp.batches {
		if len(batch) > 3 {
			t.Errorf("a batch of %d", len(batch))
		}
		for _, s := range batch {
			a := attrsOf(s.Attributes)
			if a[AttrToolName] != "t"+a[AttrRequestID] || s.Name != "tools/call t"+a[AttrRequestID] || len(s.Attributes) != 4 {
				t.Errorf("span %q has attributes %v", s.Name, a)
			}
			n++
		}
	}
	if n != 10 {
		t.Errorf("%d spans exported, want 10", n)
	}
}

// TestErrorGate: the SDK's errors are told once a period, with how many
// were not.
func TestErrorGate(t *testing.T) {
	var told []int
	g := &errorGate{tell: func(_ error, untold int) { told = append(told, untold) }, every: time.Hour}
	for range 5 {
		g.Handle(errors.New("export failed"))
	}
	g.last = g.last.Add(-2 * time.Hour) // a period later
	g.Handle(errors.New("export failed"))
	if len(told) != 2 || told[0] != 0 || told[1] != 4 {
		t.Errorf("told %v, want [0 4]", told)
	}
	(&errorGate{}).Handle(errors.New("nobody to tell")) // dropped, no panic
}

// TestStartPairIsStartTwice: a Pair's one sampling decision gives both
// spans what Start, called for each in turn, gives them, for every
// sampler the environment can name and every kind of parent; and the
// request sent on carries the CLIENT span's context.
func TestStartPairIsStartTwice(t *testing.T) {
	parents := []string{"", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"}
	for _, sampler := range []string{"", "always_on", "always_off", "traceidratio", "parentbased_always_off", "parentbased_traceidratio"} {
		for _, arg := range []string{"", "0", "0.5"} {
			for _, tp := range parents {
				env := map[string]string{"OTEL_TRACES_SAMPLER": sampler, "OTEL_TRACES_SAMPLER_ARG": arg}
				rec := tracetest.NewSpanRecorder()
				tel, err := NewWith(Options{Getenv: func(k string) string { return env[k] }}, rec, nil)
				if err != nil {
					t.Fatal(err)
				}
				meta := [3]string{tp, "", ""}
				if tp != "" {
					meta[1] = "vendor=x"
				}
				r := Request{Kind: Server, Method: "tools/call", Target: "echo", Start: time.Now()}
				pair := tel.Decide(ParentOf(meta, nil))
				s, c := pair.Ops(r, "127.0.0.1:9")

				ctx, _ := Extract(context.Background(), map[string]any{MetaTraceparent: tp, MetaTracestate: meta[1]}, nil)
				sctx, s2 := tel.Start(ctx, r)
				r.Kind = Client
				_, c2 := tel.Start(sctx, r)

				name := fmt.Sprintf("%s %q, parent %q", sampler, arg, tp)
				if s.sc.IsSampled() != c.sc.IsSampled() || s.traced != c.traced {
					t.Errorf("%s: SERVER %v and CLIENT %v decided apart", name, s.sc, c.sc)
				}
				if tp == "" && arg == "0.5" {
					continue // a new trace id each: Start's decision may rightly differ
				}
				for _, p := range [][2]*Op{{s, s2}, {c, c2}} {
					a, b := p[0].sc, p[1].sc
					if a.IsSampled() != b.IsSampled() || a.TraceState().String() != b.TraceState().String() || p[0].traced != p[1].traced {
						t.Errorf("%s: StartPair %v (traced %v), Start %v (traced %v)", name, a, p[0].traced, b, p[1].traced)
					}
					if tp != "" && a.TraceID() != b.TraceID() {
						t.Errorf("%s: trace %v, Start's %v", name, a.TraceID(), b.TraceID())
					}
				}
				if c.sc.TraceID() != s.sc.TraceID() || (c.traced && !c.parent.Equal(s.sc)) {
					t.Errorf("%s: the CLIENT span %v is not the SERVER span's child (%v)", name, c.sc, s.sc)
				}
				if got := pair.Carried().Traceparent; got != "00-"+c.sc.TraceID().String()+"-"+c.sc.SpanID().String()+"-"+c.sc.TraceFlags().String() {
					t.Errorf("%s: carries %q for %v", name, got, c.sc)
				}
			}
		}
	}
}
