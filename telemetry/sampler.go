package telemetry

import (
	"fmt"
	"strconv"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// samplerOf is the sampler OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG
// name, as the specification defines them, built from the SDK's own
// samplers; parent-based always-on by default. A value not understood is
// warned of and the default used: another program's setting must not
// stop an MCP server.
func samplerOf(env func(string) string, warn func(string)) sdktrace.Sampler {
	name := strings.ToLower(strings.TrimSpace(env("OTEL_TRACES_SAMPLER")))
	arg := strings.TrimSpace(env("OTEL_TRACES_SAMPLER_ARG"))
	ratio := func() sdktrace.Sampler {
		if arg == "" {
			return sdktrace.TraceIDRatioBased(1)
		}
		v, err := strconv.ParseFloat(arg, 64)
		if err != nil || !(v >= 0 && v <= 1) { // NaN too
			warn(fmt.Sprintf("OTEL_TRACES_SAMPLER_ARG=%q: want a ratio from 0 to 1; using 1", arg))
			return sdktrace.TraceIDRatioBased(1)
		}
		return sdktrace.TraceIDRatioBased(v)
	}
	switch name {
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample())
	case "always_on":
		return sdktrace.AlwaysSample()
	case "always_off":
		return sdktrace.NeverSample()
	case "traceidratio":
		return ratio()
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample())
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(ratio())
	}
	warn(fmt.Sprintf("OTEL_TRACES_SAMPLER=%q: not a sampler this program has; using parentbased_always_on", name))
	return sdktrace.ParentBased(sdktrace.AlwaysSample())
}
