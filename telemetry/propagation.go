package telemetry

import (
	"context"
	"encoding/hex"
	"net/http"

	"go.opentelemetry.io/otel/baggage"
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
	var carrier propagation.TextMapCarrier
	if s, _ := meta[MetaTraceparent].(string); s != "" {
		carrier = metaCarrier(meta)
	}
	return extract(ctx, carrier, header)
}

// extract is Extract from meta, nil when the request's _meta has no
// traceparent.
func extract(ctx context.Context, meta propagation.TextMapCarrier, header http.Header) (_ context.Context, link trace.SpanContext) {
	var fromHeader context.Context
	if header != nil && header.Get(MetaTraceparent) != "" {
		fromHeader = propagator.Extract(ctx, propagation.HeaderCarrier(header))
	}
	if meta != nil {
		out := propagator.Extract(ctx, meta)
		// A traceparent in _meta that does not parse names no parent:
		// the headers' context, if any, is used instead.
		if trace.SpanContextFromContext(out).IsValid() || fromHeader == nil {
			if fromHeader != nil {
				if h := trace.SpanContextFromContext(fromHeader); h.IsValid() && !h.Equal(trace.SpanContextFromContext(out)) {
					link = h
				}
			}
			return out, link
		}
	}
	if fromHeader != nil {
		return fromHeader, link
	}
	return ctx, link
}

// A Parent is the trace context a request names, for Decide: the span
// it is a child of, the baggage it carries, and a link (see Extract). The
// zero Parent names none.
type Parent struct {
	ctx  context.Context // the span context and baggage, as Extract gives them
	Link trace.SpanContext
}

// ParentOf is the parent a request names by the trace context in its
// _meta (the values of MetaTraceparent, MetaTracestate and MetaBaggage as
// read from it, "" where absent), else by its HTTP headers: Extract, for
// callers that read the request as bytes.
func ParentOf(meta [3]string, header http.Header) Parent {
	var carrier propagation.TextMapCarrier
	if meta[0] != "" {
		carrier = (*valuesCarrier)(&meta)
	} else if header.Get(MetaTraceparent) == "" {
		return Parent{}
	}
	ctx, link := extract(context.Background(), carrier, header)
	return Parent{ctx: ctx, Link: link}
}

// valuesCarrier is the values of MetaTraceparent, MetaTracestate and
// MetaBaggage as a carrier: ParentOf's, without a map.
type valuesCarrier [3]string

func (v *valuesCarrier) Get(key string) string {
	switch key {
	case MetaTraceparent:
		return v[0]
	case MetaTracestate:
		return v[1]
	case MetaBaggage:
		return v[2]
	}
	return ""
}

func (v *valuesCarrier) Set(string, string) {}

func (v *valuesCarrier) Keys() []string {
	keys := make([]string, 0, 3)
	for i, k := range [3]string{MetaTraceparent, MetaTracestate, MetaBaggage} {
		if v[i] != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// Baggage is the parent's baggage in its W3C form, "" when it has none.
func (p Parent) Baggage() string {
	if p.ctx == nil {
		return ""
	}
	if bag := baggage.FromContext(p.ctx); bag.Len() > 0 {
		return bag.String()
	}
	return ""
}

// Carried is the trace context a request carries in its _meta, as text:
// what Pair.Carried hands on.
type Carried struct {
	Traceparent, Tracestate, Baggage string
}

// carried is the W3C form of sc, written directly: the propagator's map
// is most of the cost otherwise.
func carried(sc trace.SpanContext) Carried {
	if !sc.IsValid() {
		return Carried{}
	}
	tid, sid := sc.TraceID(), sc.SpanID()
	var b [55]byte
	n := copy(b[:], "00-")
	n += hex.Encode(b[n:], tid[:])
	b[n] = '-'
	n++
	n += hex.Encode(b[n:], sid[:])
	b[n] = '-'
	n++
	n += hex.Encode(b[n:], []byte{byte(sc.TraceFlags())})
	return Carried{Traceparent: string(b[:n]), Tracestate: sc.TraceState().String()}
}
