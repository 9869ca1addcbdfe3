package main

import "context"

// tracingRow is what OpenTelemetry tracing adds to a call, every request
// sampled and exported over OTLP/HTTP to a collector that takes everything
// ("on") or to none ("dead"), and, through the proxy, for a client that
// sends its own trace context ("traced client"): through the proxy
// (stdio, HTTP) and in serve, each against the same set-up without
// tracing in the same run (target: at most 10 µs p50); and what a
// traceparent in _meta costs a go-sdk server with no proxy between, the
// part of the proxy's figure without a traced client that is the
// server's. BENCHMARKS.md, section 9.
//
// Many short runs rather than a few long ones: what a run's processes
// and connections happen to be like moves a run's median by more (±10 to
// ±20 µs over HTTP, the controls show) than a run's own sampling does,
// and the median of ten runs holds still where that of four did not.
func tracingRow(ctx context.Context, e *env) ([]line, error) {
	r, err := e.goBench(ctx, "^Benchmark(Stdio|HTTP|HTTPRaw|Serve)Tracing$|^BenchmarkHTTPTracingOwnProcess$|^BenchmarkServerMetaCost$",
		e.benchFlags("1000x", 10), "tunnel", "mcpserver")
	if err != nil {
		return nil, err
	}
	var lines []line
	for _, b := range []struct {
		dir, name, what string
		one             bool // one set-up, collector up, no sub-benchmarks
	}{
		{"tunnel", "BenchmarkStdioTracing", "proxy, stdio", false},
		{"tunnel", "BenchmarkHTTPTracing", "proxy, HTTP go-sdk", false},
		{"tunnel", "BenchmarkHTTPTracingOwnProcess", "proxy, HTTP go-sdk, each in its own process", false},
		{"tunnel", "BenchmarkHTTPRawTracing", "proxy, HTTP bare POST", true},
		{"mcpserver", "BenchmarkServeTracing", "serve, HTTP go-sdk", false},
	} {
		for _, mode := range []struct{ sub, what string }{{"on", "collector up"}, {"dead", "collector down"}, {"on-traced-client", "traced client"}, {"control", "control"}} {
			if (b.dir == "mcpserver" && (mode.sub == "on-traced-client" || mode.sub == "control")) || (b.one && mode.sub != "on") {
				continue
			}
			name := b.name + "/" + mode.sub
			if b.one {
				name = b.name
			}
			anchor := "p50 call, proxy without tracing"
			anchorMetric := "direct-p50-µs"
			if b.dir == "mcpserver" {
				anchor, anchorMetric = "p50 call, serve without tracing", "off-p50-µs"
			}
			what := b.what + ", " + mode.what + ": p50 time tracing adds (target ≤ 10 µs)"
			if mode.sub == "control" {
				what = b.what + ", control (no tracing in either arm): the method's own difference"
			}
			lines = append(lines, line{
				what:     what,
				figure:   r.m(b.dir, name, "overhead-p50-µs").scaled(1, "µs"),
				anchor:   anchor,
				anchorM:  r.m(b.dir, name, anchorMetric).scaled(1, "µs"),
				commands: []string{r.command},
			})
		}
	}
	for _, mode := range []struct{ sub, what string }{{"traceparent", "what a traceparent in _meta costs it"}, {"control", "control (no traceparent in either arm)"}} {
		name := "BenchmarkServerMetaCost/" + mode.sub
		lines = append(lines, line{
			what:     "go-sdk server, HTTP, no proxy, " + mode.what,
			figure:   r.m("tunnel", name, "overhead-p50-µs").scaled(1, "µs"),
			anchor:   "p50 call without a traceparent",
			anchorM:  r.m("tunnel", name, "direct-p50-µs").scaled(1, "µs"),
			commands: []string{r.command},
		})
	}
	return lines, r.check()
}
