package telemetry

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"

	"go.opentelemetry.io/otel"
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

// headerTraceparent is MetaTraceparent as net/http keys its headers: a
// lookup by it skips Header.Get's canonicalization, a copy of the key
// on every request.
const headerTraceparent = "Traceparent"

// propagator reads W3C trace context and baggage from HTTP headers, where
// a header may come more than once (baggage's members then join).
var propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// A Parent is the trace context a request names, for Decide and Extract:
// the span it is a child of (remote; invalid for none), the baggage it
// carries, and a link (see Extract). The zero Parent names none.
type Parent struct {
	sc   trace.SpanContext
	bag  baggage.Baggage
	Link trace.SpanContext
}

// ParentOf is the parent a request names by the trace context in its
// _meta (the values of MetaTraceparent, MetaTracestate and MetaBaggage as
// read from it, "" where absent), else by its HTTP headers (Streamable
// HTTP; nil for stdio). When both name a context and they differ, the
// headers' is the link: the conventions make _meta the parent and link
// the transport's context. A traceparent in _meta that does not parse
// names no parent, and the headers' is used instead, if any.
//
// _meta is read here, not by the SDK's propagator, which would build a
// context and a carrier for every request: TestParentOfIsThePropagators
// and FuzzParentOf hold the two to the same results.
func ParentOf(meta [3]string, header http.Header) Parent {
	return parentOf(meta[0], meta[1], meta[2], header)
}

// ParentOfRaw is ParentOf with the traceparent as the bytes of the
// message it was read from, which it does not keep: a proxy's read of a
// request, with no copy of it.
func ParentOfRaw(traceparent []byte, tracestate, baggage string, header http.Header) Parent {
	return parentOf(traceparent, tracestate, baggage, header)
}

func parentOf[T string | []byte](traceparent T, tracestate, bag string, header http.Header) Parent {
	var fromHeader Parent
	inHeader := false
	if v := header[headerTraceparent]; len(v) > 0 && v[0] != "" {
		ctx := propagator.Extract(context.Background(), propagation.HeaderCarrier(header))
		fromHeader, inHeader = Parent{sc: trace.SpanContextFromContext(ctx), bag: baggage.FromContext(ctx)}, true
	}
	if len(traceparent) == 0 {
		return fromHeader
	}
	p := Parent{sc: parseTraceparent(traceparent, tracestate)}
	if !p.sc.IsValid() && inHeader {
		return fromHeader
	}
	if bag != "" {
		// As the propagator: what parses of it, even with an error,
		// which goes to the SDK's error handler (the program's log, at
		// most once a minute).
		var err error
		if p.bag, err = baggage.Parse(bag); err != nil {
			otel.Handle(fmt.Errorf("baggage in _meta: %w", err))
		}
	}
	if fromHeader.sc.IsValid() && !fromHeader.sc.Equal(p.sc) {
		p.Link = fromHeader.sc
	}
	return p
}

// Extract returns ctx with the caller's span context and baggage, as
// ParentOf finds them in the request's _meta or HTTP headers, and the
// link ParentOf names: for a server whose handlers take a context.
func Extract(ctx context.Context, meta map[string]any, header http.Header) (_ context.Context, link trace.SpanContext) {
	var values [3]string
	for i, k := range [3]string{MetaTraceparent, MetaTracestate, MetaBaggage} {
		values[i], _ = meta[k].(string)
	}
	p := ParentOf(values, header)
	return p.context(ctx), p.Link
}

// context is ctx with the parent's span context and baggage, each only
// when it has one, as the propagator leaves a context it finds nothing
// for.
func (p Parent) context(ctx context.Context) context.Context {
	if p.sc.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, p.sc)
	}
	if p.bag.Len() > 0 {
		ctx = baggage.ContextWithBaggage(ctx, p.bag)
	}
	return ctx
}

// parseTraceparent is the remote span context a W3C traceparent names,
// with the trace state tracestate names (none when it does not parse,
// which must not make the traceparent fail); invalid when traceparent
// does not parse. It reads as the SDK's TraceContext propagator does:
// lower-case hex only; version ff refused; version 00 exactly 55
// characters (a trailing "-" allowed, as there) with flags 00 to 03; a
// later version longer only after a "-"; the flags kept are sampled and
// random.
func parseTraceparent[T string | []byte](traceparent T, tracestate string) trace.SpanContext {
	const size = 55 // "vv-" + 32 + "-" + 16 + "-" + "ff"
	s := traceparent
	if len(s) < size || s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return trace.SpanContext{}
	}
	var version, flags [1]byte
	var cfg trace.SpanContextConfig
	if !lowerHex(version[:], s[0:2]) || version[0] == 0xff ||
		!lowerHex(cfg.TraceID[:], s[3:35]) || !lowerHex(cfg.SpanID[:], s[36:52]) || !lowerHex(flags[:], s[53:55]) {
		return trace.SpanContext{}
	}
	rest := s[size:]
	switch {
	case version[0] == 0 && (len(rest) > 1 || len(rest) == 1 && rest[0] != '-' || flags[0] > 3):
		return trace.SpanContext{}
	case len(rest) > 0 && rest[0] != '-':
		return trace.SpanContext{}
	}
	cfg.TraceFlags = trace.TraceFlags(flags[0]) & (trace.FlagsSampled | trace.FlagsRandom)
	cfg.Remote = true
	if tracestate != "" {
		cfg.TraceState, _ = trace.ParseTraceState(tracestate)
	}
	sc := trace.NewSpanContext(cfg)
	if !sc.IsValid() {
		return trace.SpanContext{}
	}
	return sc
}

// lowerHex decodes src, lower-case hex of exactly twice dst's length,
// into dst, and reports whether it was that.
func lowerHex[T string | []byte](dst []byte, src T) bool {
	for i := range dst {
		hi, ok1 := nibble(src[2*i])
		lo, ok2 := nibble(src[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func nibble(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// Baggage is the parent's baggage in its W3C form, "" when it has none.
func (p Parent) Baggage() string {
	if p.bag.Len() == 0 {
		return ""
	}
	return p.bag.String()
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
