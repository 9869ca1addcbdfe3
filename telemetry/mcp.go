package telemetry

import (
	"context"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
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
// fall. From 0.5 ms up they are /metrics' (monitor.DurationBounds); the
// two below, 0.1 and 0.25 ms, are OTLP's alone.
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

// opKey is what the duration metrics are broken down by.
type opKey struct {
	method, targetKey, target, errorType, transport, protocol string
}

// maxSets bounds the attribute sets kept: tool names come from clients.
const maxSets = 4096

// attrSets keeps the metric attribute set of each opKey seen, as the
// options a Record takes, so that a request's metric costs a map lookup:
// not a sorted set built anew, nor an option and its slice made for the
// call.
type attrSets struct {
	mu sync.RWMutex
	m  map[opKey][]metric.RecordOption
}

func (a *attrSets) of(k opKey) []metric.RecordOption {
	a.mu.RLock()
	opts, ok := a.m[k]
	a.mu.RUnlock()
	if ok {
		return opts
	}
	attrs := make([]attribute.KeyValue, 0, 5)
	attrs = append(attrs, attribute.String(AttrMethod, k.method))
	if k.targetKey != "" {
		attrs = withString(attrs, k.targetKey, k.target)
	}
	attrs = withString(attrs, AttrErrorType, k.errorType)
	attrs = withString(attrs, AttrNetworkTransport, k.transport)
	attrs = withString(attrs, AttrProtocol, k.protocol)
	opts = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(attrs...))}
	a.mu.Lock()
	if a.m == nil {
		a.m = map[opKey][]metric.RecordOption{}
	}
	if len(a.m) < maxSets {
		a.m[k] = opts
	}
	a.mu.Unlock()
	return opts
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
