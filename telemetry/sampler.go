package telemetry

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// A sampler decides whether a new span is sampled, as the SDK's sampler of
// the same name does (sdk, which TestSamplerIsTheSDKs holds it to), from
// the parent's span context itself: the SDK's samplers take the parent in
// a context, one more allocation on every request's way. The new span
// keeps its parent's trace state, as every one of them has it.
type sampler struct {
	// parentBased: a span with a valid parent is sampled as its parent
	// was, remote or local; root decides the others.
	parentBased bool
	root        rootRule
	bound       uint64 // ratio: sampled below it, as TraceIDRatioBased
	sdk         sdktrace.Sampler
}

type rootRule uint8

const (
	always rootRule = iota
	never
	ratio
)

// sampled decides a span whose trace id is tid, child of parent (invalid
// for none).
func (s sampler) sampled(parent trace.SpanContext, tid trace.TraceID) bool {
	if s.parentBased && parent.IsValid() {
		return parent.IsSampled()
	}
	switch s.root {
	case always:
		return true
	case ratio:
		// The trace id's last 8 bytes, the top bit dropped, against
		// fraction × 2⁶³, as the SDK compares them.
		return binary.BigEndian.Uint64(tid[8:16])>>1 < s.bound
	}
	return false
}

// samplerOf is the sampler OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG
// name, as the specification defines them; parent-based always-on by
// default. A value not understood is warned of and the default used:
// another program's setting must not stop an MCP server.
func samplerOf(env func(string) string, warn func(string)) sampler {
	name := strings.ToLower(strings.TrimSpace(env("OTEL_TRACES_SAMPLER")))
	arg := strings.TrimSpace(env("OTEL_TRACES_SAMPLER_ARG"))
	fraction := func() float64 {
		if arg == "" {
			return 1
		}
		v, err := strconv.ParseFloat(arg, 64)
		if err != nil || !(v >= 0 && v <= 1) { // NaN too
			warn(fmt.Sprintf("OTEL_TRACES_SAMPLER_ARG=%q: want a ratio from 0 to 1; using 1", arg))
			return 1
		}
		return v
	}
	switch name {
	case "", "parentbased_always_on":
		return sampler{parentBased: true, root: always, sdk: sdktrace.ParentBased(sdktrace.AlwaysSample())}
	case "always_on":
		return sampler{root: always, sdk: sdktrace.AlwaysSample()}
	case "always_off":
		return sampler{root: never, sdk: sdktrace.NeverSample()}
	case "traceidratio":
		return ratioSampler(false, fraction())
	case "parentbased_always_off":
		return sampler{parentBased: true, root: never, sdk: sdktrace.ParentBased(sdktrace.NeverSample())}
	case "parentbased_traceidratio":
		return ratioSampler(true, fraction())
	}
	warn(fmt.Sprintf("OTEL_TRACES_SAMPLER=%q: not a sampler this program has; using parentbased_always_on", name))
	return sampler{parentBased: true, root: always, sdk: sdktrace.ParentBased(sdktrace.AlwaysSample())}
}

// ratioSampler samples fraction of the traces by their ids, as
// TraceIDRatioBased does: all of them from 1, none at 0.
func ratioSampler(parentBased bool, fraction float64) sampler {
	s := sampler{parentBased: parentBased, root: ratio, sdk: sdktrace.TraceIDRatioBased(fraction)}
	switch {
	case fraction >= 1:
		s.root = always
	case fraction <= 0:
		s.root = never
	default:
		s.bound = uint64(fraction * (1 << 63))
	}
	if parentBased {
		s.sdk = sdktrace.ParentBased(s.sdk)
	}
	return s
}
