package telemetry

import (
	"context"
	"math/rand/v2"
	"net"
	"strconv"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// Spans are made here, not by the SDK's tracer: a request's span is the
// few fields of the request and its outcome, kept as they are, and turned
// into attributes and OTLP records only when exported, on the exporting
// goroutine. The SDK's tracer builds its attribute lists, span record and
// a copy of it at the end on the request's path, 5 µs of the proxy's two
// spans; here they cost well under one (see BenchmarkProxyOp). What
// reaches the collector is the same: sampling decides as the SDK's
// samplers do (TestSamplerIsTheSDKs), the records are the ones the SDK's
// exporter builds (TestRecordsAreTheSDKs), and the SDK's OTLP exporter
// clients send them.

// An Op is one request being timed: its span (when tracing, and sampled)
// and its duration metric. A nil Op does nothing.
type Op struct {
	t     *Telemetry
	kind  Kind
	start time.Time
	// metric attributes, and the span's
	method, target, targetKey, transport, protocol string
	ended                                          bool

	// The span: set at Start when it is sampled, read by the exporter
	// once the Op is ended.
	traced           bool
	sc, parent, link trace.SpanContext
	uri, id, session string
	peer, arguments  string
	end              time.Time
	errorType, msg   string
	result           string
}

// Start begins the span of r, a child of the span context in ctx (see
// Extract), and returns ctx with it.
func (t *Telemetry) Start(ctx context.Context, r Request) (context.Context, *Op) {
	if t == nil {
		return ctx, nil
	}
	op := new(Op)
	t.begin(op, r)
	if t.sink == nil {
		return ctx, op
	}
	parent := trace.SpanContextFromContext(ctx)
	sampled, flags, state := t.sample(parent)
	op.sc = trace.NewSpanContext(trace.SpanContextConfig{TraceID: state.tid, SpanID: newSpanID(), TraceFlags: flags, TraceState: state.ts})
	if sampled {
		op.trace(parent, r)
	}
	// Not sampled, the context still goes on, flagged so: the server
	// downstream then samples as this side did.
	return trace.ContextWithSpanContext(ctx, op.sc), op
}

// StartPair begins a proxy's two spans of one request: the SERVER span
// of r as received, child of parent, and the CLIENT span of its sending
// on, child of the first, whose peer is serverPeer. It is Decide, then
// Ops: for a caller that needs the spans at once.
func (t *Telemetry) StartPair(parent Parent, r Request, serverPeer string) (server, client *Op) {
	p := t.Decide(parent)
	return p.Ops(r, serverPeer)
}

// A Pair is a proxy's two spans of one request as decided while the
// request passes (Decide): their ids, whether they are sampled, and what
// the request sent on carries. The spans themselves are made from it
// once the request is over (Ops), off the request's way. The zero Pair,
// or one of a nil Telemetry, makes none.
type Pair struct {
	t       *Telemetry
	parent  Parent
	tid     trace.TraceID
	ids     [2]trace.SpanID // SERVER, CLIENT
	flags   trace.TraceFlags
	ts      trace.TraceState
	sampled bool
	decided bool // spans are made (tracing is on)
}

// Decide takes the decisions a proxy's two spans of a request need before
// the request goes on: one sampling decision serves both, since every
// sampler this package builds (samplerOf) decides a span whose parent is
// local as that parent was decided, keeping its trace state; a second
// decision could only repeat the first.
func (t *Telemetry) Decide(parent Parent) Pair {
	if t == nil {
		return Pair{}
	}
	p := Pair{t: t, parent: parent}
	if t.sink == nil {
		return p
	}
	var state traceState
	p.sampled, p.flags, state = t.sample(parent.sc)
	p.tid, p.ts, p.decided = state.tid, state.ts, true
	p.ids = [2]trace.SpanID{newSpanID(), newSpanID()}
	return p
}

func (p *Pair) spanContext(i int) trace.SpanContext {
	if !p.decided {
		return trace.SpanContext{}
	}
	return trace.NewSpanContext(trace.SpanContextConfig{TraceID: p.tid, SpanID: p.ids[i], TraceFlags: p.flags, TraceState: p.ts})
}

// SpanContext is the SERVER span's context; invalid when not sampled, as
// Op.SpanContext.
func (p *Pair) SpanContext() trace.SpanContext {
	if !p.sampled {
		return trace.SpanContext{}
	}
	return p.spanContext(0)
}

// Carried is what the request sent on carries in its _meta: the CLIENT
// span's context (flagged unsampled when it is not sampled) and the
// parent's baggage; empty when no spans are made.
func (p *Pair) Carried() Carried {
	c := carried(p.spanContext(1))
	if c.Traceparent != "" {
		c.Baggage = p.parent.Baggage()
	}
	return c
}

// Ops makes the pair's two spans for r (the SERVER span's request; the
// CLIENT span's peer is serverPeer), to be ended (Op.End, Op.Discard).
// With tracing off they time the duration metrics only.
func (p *Pair) Ops(r Request, serverPeer string) (server, client *Op) {
	if p.t == nil {
		return nil, nil
	}
	ops := new([2]Op) // one allocation for both
	server, client = &ops[0], &ops[1]
	r.Kind, r.Link = Server, p.parent.Link
	p.t.begin(server, r)
	cr := r
	cr.Kind, cr.Link, cr.Peer = Client, trace.SpanContext{}, serverPeer
	p.t.begin(client, cr)
	if !p.decided {
		return server, client
	}
	server.sc, client.sc = p.spanContext(0), p.spanContext(1)
	if p.sampled {
		server.trace(p.parent.sc, r)
		client.trace(server.sc, cr)
	}
	return server, client
}

// begin fills in what op's duration metric needs.
func (t *Telemetry) begin(op *Op, r Request) {
	*op = Op{t: t, kind: r.Kind, start: r.Start, method: r.Method, target: r.Target, transport: r.Transport, protocol: r.Protocol}
	switch r.Method {
	case "tools/call":
		op.targetKey = AttrToolName
	case "prompts/get":
		op.targetKey = AttrPromptName
	}
}

// traceState is what a sampling decision gives a new span: its trace id
// (the parent's, or a new one) and trace state.
type traceState struct {
	tid trace.TraceID
	ts  trace.TraceState
}

// sample decides whether a span, child of parent (invalid for none), is
// sampled, and returns its flags, trace id and trace state.
func (t *Telemetry) sample(parent trace.SpanContext) (bool, trace.TraceFlags, traceState) {
	tid := parent.TraceID()
	if !parent.IsValid() {
		tid = newTraceID()
	}
	sampled := t.sampler.sampled(parent, tid)
	flags := parent.TraceFlags() &^ trace.FlagsSampled
	if sampled {
		flags |= trace.FlagsSampled
	}
	return sampled, flags, traceState{tid, parent.TraceState()}
}

// trace marks op as sampled: its span, child of parent, is exported once
// it ends, with what r says.
func (o *Op) trace(parent trace.SpanContext, r Request) {
	o.traced = true
	o.parent, o.link = parent, r.Link
	o.uri, o.id, o.session, o.peer = r.URI, r.ID, r.Session, r.Peer
	if o.t.opts.CapturePayloads {
		o.arguments = r.Arguments
	}
}

func spanKind(k Kind) trace.SpanKind {
	if k == Client {
		return trace.SpanKindClient
	}
	return trace.SpanKindServer
}

// newTraceID and newSpanID draw ids from the runtime's per-thread
// generator: random as W3C trace context asks, with no lock shared by
// the requests; never all zero, which is invalid.
func newTraceID() trace.TraceID {
	var id trace.TraceID
	for !id.IsValid() {
		hi, lo := rand.Uint64(), rand.Uint64()
		for i := range 8 {
			id[i], id[8+i] = byte(hi>>(56-8*i)), byte(lo>>(56-8*i))
		}
	}
	return id
}

func newSpanID() trace.SpanID {
	var id trace.SpanID
	for !id.IsValid() {
		v := rand.Uint64()
		for i := range 8 {
			id[i] = byte(v >> (56 - 8*i))
		}
	}
	return id
}

// SpanContext is the op's span context; invalid when not traced or not
// sampled: a trace id then names nothing a collector holds.
func (o *Op) SpanContext() trace.SpanContext {
	if o == nil || !o.traced {
		return trace.SpanContext{}
	}
	return o.sc
}

// Discard ends the op's span at end without recording its duration: for
// a request that could not be timed, whose span others may name as their
// parent.
func (o *Op) Discard(end time.Time) {
	if o == nil || o.ended {
		return
	}
	o.ended = true
	if o.traced {
		o.end = end
		o.t.sink.put(o)
	}
}

// An Outcome is how a request ended.
type Outcome struct {
	End time.Time
	// ErrorType is "" for a success, else the call log's outcome: a
	// JSON-RPC code ("-32602"), "tool_error", "cancelled"…
	ErrorType string
	// Message is the failure's text, for the span's status.
	Message string
	// Protocol, when the request's answer agreed on one (initialize).
	Protocol string
	// Arguments and Result are the tool's, kept only when payloads are
	// captured; Arguments here when they were not known at Start.
	Arguments, Result string
}

// End ends the op's span and records its duration; once: a later End
// does nothing.
func (o *Op) End(ctx context.Context, out Outcome) {
	if o == nil || o.ended {
		return
	}
	o.ended = true
	if out.Protocol != "" {
		o.protocol = out.Protocol
	}
	if o.traced {
		o.end, o.errorType, o.msg = out.End, out.ErrorType, out.Message
		if o.t.opts.CapturePayloads {
			if out.Arguments != "" {
				o.arguments = out.Arguments
			}
			o.result = out.Result
		}
		// The Op is the exporter's from here: nothing above changes it.
		o.t.sink.put(o)
	}
	if o.t.metrics {
		k := opKey{o.method, o.targetKey, o.target, out.ErrorType, o.transport, o.protocol}
		o.t.ops[o.kind].Record(ctx, seconds(out.End.Sub(o.start)), o.t.sets.of(k)...)
	}
}

// snapshot is the ended op's span as the SDK's exporters and processors
// take it, with the attributes of the conventions, appended to buf: an
// exporter that is done with its batch before the next one is built lets
// one buffer serve every span (the returned one, grown as needed; each
// span's attributes are capped where they end, so that none runs into
// the next).
func (o *Op) snapshot(buf []attribute.KeyValue) (sdktrace.ReadOnlySpan, []attribute.KeyValue) {
	from := len(buf)
	buf, dropped := o.attributes(buf)
	attrs := buf[from:len(buf):len(buf)]
	var links []sdktrace.Link
	if o.link.IsValid() {
		links = []sdktrace.Link{{SpanContext: o.link}}
	}
	code, desc := o.status()
	return tracetest.SpanStub{
		Name:                 spanName(o.method, o.target),
		SpanContext:          o.sc,
		Parent:               o.parent,
		SpanKind:             spanKind(o.kind),
		StartTime:            o.start,
		EndTime:              o.end,
		Attributes:           attrs,
		DroppedAttributes:    dropped,
		Links:                links,
		Status:               sdktrace.Status{Code: code, Description: desc},
		Resource:             o.t.res,
		InstrumentationScope: o.t.scope,
	}.Snapshot(), buf
}

// attributes appends the ended op's span attributes, as the conventions
// have them and the span limits cut them, to buf, and returns how many
// the limits dropped.
func (o *Op) attributes(buf []attribute.KeyValue) (_ []attribute.KeyValue, dropped int) {
	from := len(buf)
	attrs := append(buf, attribute.String(AttrMethod, o.method))
	if o.targetKey != "" {
		attrs = withString(attrs, o.targetKey, o.target)
	}
	if o.method == "tools/call" {
		attrs = append(attrs, attribute.String(AttrOperation, "execute_tool"))
	}
	attrs = withString(attrs, AttrResourceURI, o.uri)
	attrs = withString(attrs, AttrRequestID, o.id)
	attrs = withString(attrs, AttrSession, o.session)
	attrs = withString(attrs, AttrProtocol, o.protocol)
	if o.transport != "" {
		attrs = append(attrs, attribute.String(AttrNetworkTransport, o.transport))
		if o.transport == TransportTCP {
			attrs = append(attrs, attribute.String(AttrNetworkProtocol, "http"))
		}
	}
	if host, port, err := net.SplitHostPort(o.peer); err == nil {
		addrKey, portKey := AttrClientAddress, AttrClientPort
		if o.kind == Client {
			addrKey, portKey = AttrServerAddress, AttrServerPort
		}
		attrs = append(attrs, attribute.String(addrKey, host))
		if p, err := strconv.Atoi(port); err == nil {
			attrs = append(attrs, attribute.Int(portKey, p))
		}
	}
	if o.errorType != "" {
		attrs = append(attrs, attribute.String(AttrErrorType, o.errorType))
		if isCode(o.errorType) {
			attrs = append(attrs, attribute.String(AttrStatusCode, o.errorType))
		}
	}
	attrs = withString(attrs, AttrToolArguments, o.arguments)
	attrs = withString(attrs, AttrToolResult, o.result)
	dropped = limit(attrs[from:], o.t.limits)
	// The dropped stay in the buffer past its end, where clearing the
	// batch's attributes would not reach them: a captured payload among
	// them would be kept alive until overwritten.
	kept := len(attrs) - dropped
	clear(attrs[kept:])
	return attrs[:kept], dropped
}

// status is the ended op's span status: an error for a failed request,
// but for a SERVER span whose caller sent a wrong request.
func (o *Op) status() (codes.Code, string) {
	if o.errorType != "" && (o.kind == Client || !callersMistake(o.errorType)) {
		return codes.Error, o.msg
	}
	return codes.Unset, ""
}

// limit applies the span limits the environment sets, as the SDK's tracer
// does: string values cut to AttributeValueLengthLimit characters (a
// captured payload may be long), and attributes past AttributeCountLimit
// dropped (the number returned; they are the last, so that the
// conventions' required ones stay). Negative limits are none.
func limit(attrs []attribute.KeyValue, l sdktrace.SpanLimits) (dropped int) {
	if n := l.AttributeValueLengthLimit; n >= 0 {
		for i, kv := range attrs {
			if kv.Value.Type() != attribute.STRING {
				continue
			}
			if v := kv.Value.AsString(); len(v) > n && utf8.RuneCountInString(v) > n {
				attrs[i] = kv.Key.String(cutRunes(v, n))
			}
		}
	}
	if n := l.AttributeCountLimit; n >= 0 && len(attrs) > n {
		return len(attrs) - n
	}
	return 0
}

// cutRunes is s's first n characters.
func cutRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}
