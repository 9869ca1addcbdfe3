package telemetry

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// TestSamplerIsTheSDKs holds each sampler the environment can name to the
// SDK's sampler of that name: the same decision and trace state for every
// kind of parent (none, remote or local, sampled or not, with a trace
// state or without) over many trace ids, ratios at and between the ends
// among them.
func TestSamplerIsTheSDKs(t *testing.T) {
	ts, err := trace.ParseTraceState("vendor=value")
	if err != nil {
		t.Fatal(err)
	}
	parents := []trace.SpanContext{{}}
	for _, remote := range []bool{false, true} {
		for _, flags := range []trace.TraceFlags{0, trace.FlagsSampled, trace.FlagsSampled | trace.FlagsRandom} {
			for _, state := range []trace.TraceState{{}, ts} {
				parents = append(parents, trace.NewSpanContext(trace.SpanContextConfig{
					TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4}, TraceFlags: flags, TraceState: state, Remote: remote,
				}))
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, name := range []string{"", "parentbased_always_on", "always_on", "always_off", "traceidratio", "parentbased_always_off", "parentbased_traceidratio", "no such sampler"} {
		for _, arg := range []string{"", "0", "0.25", "0.5", "0.999", "1", "2", "x"} {
			env := map[string]string{"OTEL_TRACES_SAMPLER": name, "OTEL_TRACES_SAMPLER_ARG": arg}
			s := samplerOf(func(k string) string { return env[k] }, func(string) {})
			for _, parent := range parents {
				for range 200 {
					var tid trace.TraceID
					for i := range tid {
						tid[i] = byte(rng.UintN(256))
					}
					if parent.IsValid() {
						tid = parent.TraceID()
					}
					ctx := trace.ContextWithSpanContext(context.Background(), parent)
					want := s.sdk.ShouldSample(sdktrace.SamplingParameters{ParentContext: ctx, TraceID: tid, Name: "tools/call", Kind: trace.SpanKindServer})
					got := s.sampled(parent, tid)
					if got != (want.Decision == sdktrace.RecordAndSample) || parent.TraceState().String() != want.Tracestate.String() {
						t.Fatalf("%s", fmt.Sprintf("%q %q, parent %v, trace %v: sampled %v, the SDK's %v (trace state %q)",
							name, arg, parent, tid, got, want.Decision, want.Tracestate.String()))
					}
				}
			}
		}
	}
}

// fixedIDs is an SDK id generator whose next trace id is set by the test.
type fixedIDs struct{ tid trace.TraceID }

func (g *fixedIDs) NewIDs(context.Context) (trace.TraceID, trace.SpanID) {
	return g.tid, trace.SpanID{9}
}
func (g *fixedIDs) NewSpanID(context.Context, trace.TraceID) trace.SpanID {
	return trace.SpanID{9}
}

// TestSamplerIsTheSDKsFromEnv holds samplerOf to the sampler the SDK's
// own tracer provider takes from the same OTEL_TRACES_SAMPLER and
// OTEL_TRACES_SAMPLER_ARG, names and ratios at and past the edges among
// them (NaN aside: the SDK turns it into a bound the platform decides),
// so that the name a value maps to is checked too, not only the rule.
func TestSamplerIsTheSDKsFromEnv(t *testing.T) {
	parents := []trace.SpanContext{{}}
	for _, remote := range []bool{false, true} {
		for _, flags := range []trace.TraceFlags{0, trace.FlagsSampled} {
			parents = append(parents, trace.NewSpanContext(trace.SpanContextConfig{
				TraceID: trace.TraceID{0, 0, 0, 0, 0, 0, 0, 0, 0x40}, SpanID: trace.SpanID{4}, TraceFlags: flags, Remote: remote,
			}))
		}
	}
	// The provider reports the values it does not take to the process's
	// handler, as New's is.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {}))
	rng := rand.New(rand.NewPCG(3, 4))
	for _, name := range []string{"", "parentbased_always_on", "always_on", "always_off", "traceidratio", "parentbased_always_off",
		"parentbased_traceidratio", " TraceIdRatio ", "no such sampler"} {
		for _, arg := range []string{"", "0", "-0", "0.25", "0.5", "1", "2", "-0.5", "Inf", "1e-300", "0x1p-2", " 0.5 ", "x"} {
			t.Setenv("OTEL_TRACES_SAMPLER", name)
			t.Setenv("OTEL_TRACES_SAMPLER_ARG", arg)
			ids := &fixedIDs{}
			tp := sdktrace.NewTracerProvider(sdktrace.WithIDGenerator(ids))
			tracer := tp.Tracer("test")
			env := map[string]string{"OTEL_TRACES_SAMPLER": name, "OTEL_TRACES_SAMPLER_ARG": arg}
			s := samplerOf(func(k string) string { return env[k] }, func(string) {})
			for _, parent := range parents {
				for i := range 100 {
					var tid trace.TraceID
					for j := range tid {
						tid[j] = byte(rng.UintN(256))
					}
					if i == 0 {
						tid[8] = 0 // the lowest ids, sampled by any ratio above 0
					}
					if parent.IsValid() {
						tid = parent.TraceID()
					}
					ids.tid = tid
					_, span := tracer.Start(trace.ContextWithSpanContext(context.Background(), parent), "x")
					want := span.SpanContext().IsSampled()
					span.End()
					if got := s.sampled(parent, tid); got != want {
						t.Fatalf("%q %q, parent %v, trace %v: sampled %v, the SDK's tracer provider %v", name, arg, parent, tid, got, want)
					}
				}
			}
			if err := tp.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
}
