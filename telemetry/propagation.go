package telemetry

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// The keys the conventions carry in params._meta, unprefixed.
const (
	MetaTraceparent = "traceparent"
	MetaTracestate  = "tracestate"
	MetaBaggage     = "baggage"
)

// propagator reads and writes W3C trace context and baggage.
var propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// metaCarrier is a request's params._meta as a carrier.
type metaCarrier map[string]any

func (m metaCarrier) Get(key string) string {
	s, _ := m[key].(string)
	return s
}

func (m metaCarrier) Set(key, value string) { m[key] = value }

func (m metaCarrier) Keys() []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// Extract returns ctx with the caller's span context and baggage: from
// the request's _meta, or, when that has no traceparent, from the HTTP
// request's headers (Streamable HTTP; nil for stdio). When both name a
// context and they differ, the headers' is returned as link: the
// conventions make _meta the parent and link the transport's context.
func Extract(ctx context.Context, meta map[string]any, header http.Header) (_ context.Context, link trace.SpanContext) {
	var fromHeader context.Context
	if header != nil && header.Get(MetaTraceparent) != "" {
		fromHeader = propagator.Extract(ctx, propagation.HeaderCarrier(header))
	}
	if s, _ := meta[MetaTraceparent].(string); s != "" {
		out := propagator.Extract(ctx, metaCarrier(meta))
		if fromHeader != nil {
			if h := trace.SpanContextFromContext(fromHeader); h.IsValid() && !h.Equal(trace.SpanContextFromContext(out)) {
				link = h
			}
		}
		return out, link
	}
	if fromHeader != nil {
		return fromHeader, link
	}
	return ctx, link
}

// ExtractFunc is Extract from a _meta read by get, for callers that hold
// the request as bytes.
func ExtractFunc(ctx context.Context, get func(key string) string) context.Context {
	if get(MetaTraceparent) == "" {
		return ctx
	}
	return propagator.Extract(ctx, funcCarrier(get))
}

type funcCarrier func(string) string

func (f funcCarrier) Get(key string) string { return f(key) }
func (f funcCarrier) Set(string, string)    {}
func (f funcCarrier) Keys() []string        { return []string{MetaTraceparent, MetaTracestate, MetaBaggage} }

// Inject returns the keys and values to put in the _meta of a request
// sent on in ctx's span: traceparent, and tracestate and baggage when
// there are any.
func Inject(ctx context.Context) map[string]string {
	c := propagation.MapCarrier{}
	propagator.Inject(ctx, c)
	return c
}
