package telemetry

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// propagatorParent is what the SDK's propagator makes of the same trace
// context: _meta as a carrier when it has a traceparent, else the
// headers; _meta's context the parent, the headers' the link when both
// name one and they differ. ParentOf must give the same.
func propagatorParent(meta [3]string, header http.Header) (sc trace.SpanContext, bag string, link trace.SpanContext) {
	var fromHeader context.Context
	if header.Get(MetaTraceparent) != "" {
		fromHeader = propagator.Extract(context.Background(), propagation.HeaderCarrier(header))
	}
	ctx := fromHeader
	if meta[0] != "" {
		carrier := propagation.MapCarrier{}
		for i, k := range [3]string{MetaTraceparent, MetaTracestate, MetaBaggage} {
			if meta[i] != "" {
				carrier[k] = meta[i]
			}
		}
		out := propagator.Extract(context.Background(), carrier)
		if trace.SpanContextFromContext(out).IsValid() || fromHeader == nil {
			ctx = out
			if h := trace.SpanContextFromContext(fromHeader); h.IsValid() && !h.Equal(trace.SpanContextFromContext(out)) {
				link = h
			}
		}
	}
	if ctx == nil {
		return trace.SpanContext{}, "", link
	}
	b := baggage.FromContext(ctx)
	if b.Len() > 0 {
		bag = b.String()
	}
	return trace.SpanContextFromContext(ctx), bag, link
}

// checkParentOf fails t where ParentOf, or Extract, differs from the
// propagator on the same trace context, or ParentOfRaw from ParentOf.
func checkParentOf(t *testing.T, meta [3]string, header http.Header) {
	t.Helper()
	wantSC, wantBag, wantLink := propagatorParent(meta, header)
	p := ParentOf(meta, header)
	if !p.sc.Equal(wantSC) || p.sc.IsRemote() != wantSC.IsRemote() || !sameW3CBaggage(p.Baggage(), wantBag) || !p.Link.Equal(wantLink) {
		t.Fatalf("ParentOf(%q, %v) = %v %q link %v; the propagator: %v %q link %v",
			meta, header, p.sc, p.Baggage(), p.Link, wantSC, wantBag, wantLink)
	}
	if r := ParentOfRaw([]byte(meta[0]), meta[1], meta[2], header); !r.sc.Equal(p.sc) || r.sc.IsRemote() != p.sc.IsRemote() ||
		!sameW3CBaggage(r.Baggage(), p.Baggage()) || !r.Link.Equal(p.Link) {
		t.Fatalf("ParentOfRaw(%q, %v) = %v %q link %v; ParentOf %v %q link %v", meta, header, r.sc, r.Baggage(), r.Link, p.sc, p.Baggage(), p.Link)
	}
	m := map[string]any{}
	for i, k := range [3]string{MetaTraceparent, MetaTracestate, MetaBaggage} {
		if meta[i] != "" {
			m[k] = meta[i]
		}
	}
	ctx, link := Extract(context.Background(), m, header)
	if sc := trace.SpanContextFromContext(ctx); !sc.Equal(wantSC) || !link.Equal(wantLink) {
		t.Fatalf("Extract(%q, %v) = %v link %v; the propagator: %v link %v", meta, header, sc, link, wantSC, wantLink)
	}
	if b := baggage.FromContext(ctx); !sameW3CBaggage(b.String(), wantBag) {
		t.Fatalf("Extract(%q, %v) baggage %q; the propagator: %q", meta, header, b.String(), wantBag)
	}
}

// sameW3CBaggage reports whether two W3C baggage strings hold the same
// members (sameBaggage).
func sameW3CBaggage(a, b string) bool {
	ba, _ := baggage.Parse(a)
	bb, _ := baggage.Parse(b)
	return sameBaggage(ba, bb)
}

// parentCases are trace contexts at the edges of what W3C allows, and
// past them.
var parentCases = []struct {
	name                      string
	tp, ts, bag, htp, hts, hb string
}{
	{name: "none"},
	{name: "sampled", tp: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
	{name: "unsampled", tp: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"},
	{name: "random flag kept", tp: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03"},
	{name: "reserved flag, version 0", tp: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09"},
	{name: "reserved flags dropped, later version", tp: "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff"},
	{name: "later version, more fields", tp: "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-ever"},
	{name: "later version, no dash", tp: "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x"},
	{name: "version 0, more fields", tp: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x"},
	{name: "version 0, trailing dash", tp: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-"},
	{name: "version ff", tp: "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
	{name: "upper case", tp: "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01"},
	{name: "zero trace id", tp: "00-00000000000000000000000000000000-00f067aa0ba902b7-01"},
	{name: "zero span id", tp: "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"},
	{name: "short", tp: "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01"},
	{name: "garbage", tp: "garbage"},
	{name: "trace state", tp: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", ts: "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"},
	{name: "bad trace state kept apart", tp: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", ts: "no equals sign"},
	{name: "baggage", tp: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", bag: "user=alice,tenant=42;p=1"},
	{name: "bad baggage", tp: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", bag: "=,=,"},
	{name: "baggage, bad traceparent", tp: "nope", bag: "user=alice"},
	{name: "baggage without traceparent is not read", bag: "user=alice"},
	{name: "header only", htp: "00-33333333333333333333333333333333-4444444444444444-01", hb: "from=header"},
	{name: "header and _meta differ: link", tp: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", htp: "00-33333333333333333333333333333333-4444444444444444-01"},
	{name: "header and _meta agree", tp: "00-33333333333333333333333333333333-4444444444444444-01", htp: "00-33333333333333333333333333333333-4444444444444444-01"},
	{name: "bad _meta, header used", tp: "garbage", bag: "from=meta", htp: "00-33333333333333333333333333333333-4444444444444444-01", hts: "a=b", hb: "from=header"},
	{name: "bad _meta, bad header", tp: "garbage", bag: "from=meta", htp: "garbage", hb: "from=header"},
	{name: "bad header, good _meta", tp: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", htp: "garbage"},
}

func headerOf(tp, ts, bag string) http.Header {
	h := http.Header{}
	for k, v := range map[string]string{MetaTraceparent: tp, MetaTracestate: ts, MetaBaggage: bag} {
		if v != "" {
			h.Set(k, v)
		}
	}
	return h
}

func TestParentOfIsThePropagators(t *testing.T) {
	for _, c := range parentCases {
		t.Run(c.name, func(t *testing.T) {
			checkParentOf(t, [3]string{c.tp, c.ts, c.bag}, headerOf(c.htp, c.hts, c.hb))
			checkParentOf(t, [3]string{c.tp, c.ts, c.bag}, nil)
		})
	}
}

func FuzzParentOf(f *testing.F) {
	for _, c := range parentCases {
		f.Add(c.tp, c.ts, c.bag, c.htp, c.hts, c.hb)
	}
	f.Fuzz(func(t *testing.T, tp, ts, bag, htp, hts, hb string) {
		checkParentOf(t, [3]string{tp, ts, bag}, headerOf(htp, hts, hb))
	})
}

// TestBadBaggageIsTold: baggage in _meta that does not parse goes to the
// SDK's error handler, as the propagator's errors do (what parses of it
// is kept, as TestParentOfIsThePropagators checks).
func TestBadBaggageIsTold(t *testing.T) {
	before := otel.GetErrorHandler()
	defer otel.SetErrorHandler(before)
	var told []error
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { told = append(told, err) }))
	ParentOf([3]string{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "", "user=alice,=bad"}, nil)
	if len(told) != 1 || !strings.Contains(told[0].Error(), "baggage in _meta") {
		t.Errorf("told %v, want the baggage's error", told)
	}
	told = nil
	ParentOf([3]string{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "", "user=alice"}, nil)
	if len(told) != 0 {
		t.Errorf("good baggage told %v", told)
	}
}
