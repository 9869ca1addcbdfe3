package telemetry

import (
	"context"
	"net"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Attribute names of the OpenTelemetry semantic conventions for MCP (and
// the general ones they use).
const (
	AttrMethod           = "mcp.method.name"
	AttrSession          = "mcp.session.id"
	AttrProtocol         = "mcp.protocol.version"
	AttrResourceURI      = "mcp.resource.uri"
	AttrRequestID        = "jsonrpc.request.id"
	AttrToolName         = "gen_ai.tool.name"
	AttrPromptName       = "gen_ai.prompt.name"
	AttrOperation        = "gen_ai.operation.name"
	AttrToolArguments    = "gen_ai.tool.call.arguments"
	AttrToolResult       = "gen_ai.tool.call.result"
	AttrErrorType        = "error.type"
	AttrStatusCode       = "rpc.response.status_code"
	AttrNetworkTransport = "network.transport"
	AttrNetworkProtocol  = "network.protocol.name"
	AttrClientAddress    = "client.address"
	AttrClientPort       = "client.port"
	AttrServerAddress    = "server.address"
	AttrServerPort       = "server.port"
)

// Metric names of the conventions, histograms in seconds.
const (
	MetricServerOperation = "mcp.server.operation.duration"
	MetricClientOperation = "mcp.client.operation.duration"
	MetricServerSession   = "mcp.server.session.duration"
	MetricClientSession   = "mcp.client.session.duration"
)

// Buckets are the histograms' bounds in seconds: the conventions' own,
// with finer ones below 10 ms, where most tool calls of a local server
// fall, as /metrics has them.
var Buckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
	0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300}

// Kind says which side of a request a span or a metric is of.
type Kind int

const (
	Server Kind = iota // the request as received
	Client             // the request as sent on
)

func (t *Telemetry) instruments(m metric.Meter) error {
	for i, name := range [2]string{MetricServerOperation, MetricClientOperation} {
		h, err := m.Float64Histogram(name, metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(Buckets...),
			metric.WithDescription("Duration of an MCP request, from its arrival to its response, or from sending it to its response."))
		if err != nil {
			return err
		}
		t.ops[i] = h
	}
	for i, name := range [2]string{MetricServerSession, MetricClientSession} {
		h, err := m.Float64Histogram(name, metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(Buckets...),
			metric.WithDescription("Duration of an MCP session, from its first request to its end."))
		if err != nil {
			return err
		}
		t.session[i] = h
	}
	return nil
}

// Transports, as network.transport names them.
const (
	TransportPipe = "pipe" // stdio
	TransportTCP  = "tcp"  // HTTP
)

// A Request describes an MCP request a span is made of.
type Request struct {
	Kind   Kind
	Method string
	// Target is the tool of tools/call or the prompt of prompts/get, and
	// names the span; URI is the resource of resources/read.
	Target, URI string
	// Start is when the request arrived (Server) or was sent (Client).
	Start time.Time
	// ID is the JSON-RPC id as it was sent (a string's quotes removed).
	ID        string
	Session   string
	Protocol  string
	Transport string // TransportPipe or TransportTCP
	// Peer is the other side's host:port: the client's on a Server
	// span, the server's on a Client span.
	Peer string
	// Arguments are the tool's arguments, kept only when payloads are
	// captured (Options.CapturePayloads).
	Arguments string
	// Link is a context the span links to besides its parent: the HTTP
	// request's trace context when _meta named another parent.
	Link trace.SpanContext
}

// spanName is "{mcp.method.name} {target}", or the method alone.
func spanName(method, target string) string {
	if target == "" {
		return method
	}
	return method + " " + target
}

// An Op is one request being timed: its span (when tracing) and its
// duration metric. A nil Op does nothing.
type Op struct {
	t     *Telemetry
	span  trace.Span
	kind  Kind
	start time.Time
	// metric attributes
	method, target, targetKey, transport, protocol string
	ended                                          bool
}

// Start begins the span of r, a child of the span context in ctx (see
// Extract), and returns ctx with it.
func (t *Telemetry) Start(ctx context.Context, r Request) (context.Context, *Op) {
	if t == nil {
		return ctx, nil
	}
	op := &Op{t: t, kind: r.Kind, start: r.Start, method: r.Method, target: r.Target, transport: r.Transport, protocol: r.Protocol}
	switch r.Method {
	case "tools/call":
		op.targetKey = AttrToolName
	case "prompts/get":
		op.targetKey = AttrPromptName
	}
	if t.tracer == nil {
		return ctx, op
	}
	kind := trace.SpanKindServer
	if r.Kind == Client {
		kind = trace.SpanKindClient
	}
	buf := attrPool.Get().(*[]attribute.KeyValue)
	attrs := append((*buf)[:0], attribute.String(AttrMethod, r.Method))
	if op.targetKey != "" {
		attrs = withString(attrs, op.targetKey, r.Target)
	}
	if r.Method == "tools/call" {
		attrs = append(attrs, attribute.String(AttrOperation, "execute_tool"))
	}
	attrs = withString(attrs, AttrResourceURI, r.URI)
	attrs = withString(attrs, AttrRequestID, r.ID)
	attrs = withString(attrs, AttrSession, r.Session)
	attrs = withString(attrs, AttrProtocol, r.Protocol)
	if r.Transport != "" {
		attrs = append(attrs, attribute.String(AttrNetworkTransport, r.Transport))
		if r.Transport == TransportTCP {
			attrs = append(attrs, attribute.String(AttrNetworkProtocol, "http"))
		}
	}
	if host, port, err := net.SplitHostPort(r.Peer); err == nil {
		addrKey, portKey := AttrClientAddress, AttrClientPort
		if r.Kind == Client {
			addrKey, portKey = AttrServerAddress, AttrServerPort
		}
		attrs = append(attrs, attribute.String(addrKey, host))
		if p, err := strconv.Atoi(port); err == nil {
			attrs = append(attrs, attribute.Int(portKey, p))
		}
	}
	if t.opts.CapturePayloads && r.Arguments != "" {
		attrs = append(attrs, attribute.String(AttrToolArguments, r.Arguments))
	}
	opts := []trace.SpanStartOption{trace.WithSpanKind(kind), trace.WithTimestamp(r.Start), trace.WithAttributes(attrs...)}
	if r.Link.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: r.Link}))
	}
	ctx, op.span = t.tracer.Start(ctx, spanName(r.Method, r.Target), opts...)
	// The span holds copies: the buffer goes back, emptied so that it
	// keeps no request's strings alive.
	clear(attrs)
	*buf = attrs[:0]
	attrPool.Put(buf)
	return ctx, op
}

// attrPool holds the buffers spans' attributes are gathered in: the SDK
// copies them, so one buffer serves request after request.
var attrPool = sync.Pool{New: func() any {
	b := make([]attribute.KeyValue, 0, 16)
	return &b
}}

// SpanContext is the op's span context; invalid when not traced or not
// sampled.
func (o *Op) SpanContext() trace.SpanContext {
	if o == nil || o.span == nil {
		return trace.SpanContext{}
	}
	return o.span.SpanContext()
}

// Discard ends the op's span at end without recording its duration: for
// a request that could not be timed, whose span others may name as their
// parent.
func (o *Op) Discard(end time.Time) {
	if o == nil || o.ended {
		return
	}
	o.ended = true
	if o.span != nil {
		o.span.End(trace.WithTimestamp(end))
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
	if o.span != nil {
		// A success at the end adds nothing: most requests set no
		// attribute here.
		var buf [5]attribute.KeyValue
		attrs := buf[:0]
		attrs = withString(attrs, AttrProtocol, out.Protocol)
		if out.ErrorType != "" {
			attrs = append(attrs, attribute.String(AttrErrorType, out.ErrorType))
			if isCode(out.ErrorType) {
				attrs = append(attrs, attribute.String(AttrStatusCode, out.ErrorType))
			}
			if o.kind == Client || !callersMistake(out.ErrorType) {
				o.span.SetStatus(codes.Error, out.Message)
			}
		}
		if o.t.opts.CapturePayloads {
			attrs = withString(attrs, AttrToolArguments, out.Arguments)
			attrs = withString(attrs, AttrToolResult, out.Result)
		}
		if len(attrs) > 0 {
			o.span.SetAttributes(attrs...)
		}
		o.span.End(trace.WithTimestamp(out.End))
	}
	if o.t.metrics {
		k := opKey{o.method, o.targetKey, o.target, out.ErrorType, o.transport, o.protocol}
		o.t.ops[o.kind].Record(ctx, seconds(out.End.Sub(o.start)), metric.WithAttributeSet(o.t.sets.of(k)))
	}
}

// opKey is what the duration metrics are broken down by.
type opKey struct {
	method, targetKey, target, errorType, transport, protocol string
}

// maxSets bounds the attribute sets kept: tool names come from clients.
const maxSets = 4096

// attrSets keeps the metric attribute set of each opKey seen, so that a
// request's metric costs a map lookup, not a sorted set built anew.
type attrSets struct {
	mu sync.RWMutex
	m  map[opKey]attribute.Set
}

func (a *attrSets) of(k opKey) attribute.Set {
	a.mu.RLock()
	set, ok := a.m[k]
	a.mu.RUnlock()
	if ok {
		return set
	}
	attrs := make([]attribute.KeyValue, 0, 5)
	attrs = append(attrs, attribute.String(AttrMethod, k.method))
	if k.targetKey != "" {
		attrs = withString(attrs, k.targetKey, k.target)
	}
	attrs = withString(attrs, AttrErrorType, k.errorType)
	attrs = withString(attrs, AttrNetworkTransport, k.transport)
	attrs = withString(attrs, AttrProtocol, k.protocol)
	set = attribute.NewSet(attrs...)
	a.mu.Lock()
	if a.m == nil {
		a.m = map[opKey]attribute.Set{}
	}
	if len(a.m) < maxSets {
		a.m[k] = set
	}
	a.mu.Unlock()
	return set
}

// callersMistake reports whether a server answered with a code that
// says the request was wrong (parse error, invalid request, unknown
// method, invalid params, resource not found): the conventions leave the
// SERVER span's status unset then, as HTTP servers do for 4xx, while
// error.type still says what happened. The CLIENT span fails either way.
func callersMistake(errorType string) bool {
	switch errorType {
	case "-32700", "-32600", "-32601", "-32602", "-32002":
		return true
	}
	return false
}

// isCode reports whether an error type is a JSON-RPC error code.
func isCode(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

// SessionEnded records the duration of a session that ended. Session ids
// are never metric attributes: they would make a series per session.
func (t *Telemetry) SessionEnded(ctx context.Context, kind Kind, d time.Duration, transport, protocol string) {
	if t == nil || !t.metrics {
		return
	}
	attrs := make([]attribute.KeyValue, 0, 2)
	attrs = withString(attrs, AttrNetworkTransport, transport)
	attrs = withString(attrs, AttrProtocol, protocol)
	t.session[kind].Record(ctx, seconds(d), metric.WithAttributes(attrs...))
}

// withString appends key=v, unless v is empty: an attribute that is not
// known is left out, not set to "".
func withString(attrs []attribute.KeyValue, key, v string) []attribute.KeyValue {
	if v == "" {
		return attrs
	}
	return append(attrs, attribute.String(key, v))
}
