package telemetry

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

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
