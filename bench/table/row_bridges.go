package main

import "context"

// bridgesRow is pbatunnel's transport bridges beside the programs people
// use for the same job, in the same run, with the same Go SDK client and
// the same server: the time each adds to a tools/call over the server
// reached directly, and calls/s with 8 in flight. BENCHMARKS.md,
// section 11.
func bridgesRow(ctx context.Context, e *env) ([]line, error) {
	r, err := e.goBench(ctx, ".", e.benchFlags("1000x", 3), "bench/bridges")
	if err != nil {
		return nil, err
	}
	var lines []line
	for _, set := range []struct {
		bench, what, direct string
		bridges             []string
	}{
		{"BenchmarkStdioServerOverHTTP", "stdio server over Streamable HTTP", "stdio direct", []string{"pbatunnel", "supergateway", "mcp-proxy"}},
		{"BenchmarkHTTPServerOverStdio", "HTTP server for a stdio client", "HTTP direct", []string{"pbatunnel", "mcp-remote"}},
	} {
		for _, br := range set.bridges {
			name := set.bench + "/" + br
			lines = append(lines,
				line{
					what:     set.what + ", " + br + ": p50 time added",
					figure:   r.m("bench/bridges", name, "added-p50-µs").scaled(1, "µs"),
					anchor:   "p50 call, " + set.direct,
					anchorM:  r.m("bench/bridges", name, "direct-p50-µs").scaled(1, "µs"),
					commands: []string{r.command},
				},
				line{
					what:     set.what + ", " + br + ": p99 time added",
					figure:   r.m("bench/bridges", name, "added-p99-µs").scaled(1, "µs"),
					commands: []string{r.command},
				},
				line{
					what:     set.what + ", " + br + ": calls/s, 8 in flight",
					figure:   r.m("bench/bridges", name, "bridged-calls/s").scaled(1, "calls/s"),
					anchor:   "calls/s, " + set.direct,
					anchorM:  r.m("bench/bridges", name, "direct-calls/s").scaled(1, "calls/s"),
					commands: []string{r.command},
				})
		}
	}
	return lines, r.check()
}
