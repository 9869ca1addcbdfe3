package main

import "context"

// tunnelRow is one tools/call to the same fake MCP server directly and
// through the proxy, alternating within each benchmark so that both see
// the same machine load; "same process" runs the proxy inside the
// benchmark, "own process" as a program of its own, as in use.
func tunnelRow(ctx context.Context, e *env) ([]line, error) {
	r, err := e.goBench(ctx, ".", e.benchFlags("2s", 5), "tunnel")
	if err != nil {
		return nil, err
	}
	var lines []line
	for _, setup := range []struct{ sub, what string }{
		{"same-process", "same process"},
		{"own-process", "own process"},
	} {
		added := func(bench, path string) line {
			name := bench + "/" + setup.sub
			return line{
				what:     path + ", " + setup.what + ": p50 time the proxy adds (target < 100 µs)",
				figure:   r.m("tunnel", name, "overhead-p50-µs").scaled(1, "µs"),
				anchor:   "p50 round trip, direct",
				anchorM:  r.m("tunnel", name, "direct-p50-µs").scaled(1, "µs"),
				commands: []string{r.command},
			}
		}
		throughput := func(bench, path string) line {
			name := bench + "/" + setup.sub
			return line{
				what:     path + ", " + setup.what + ": calls/s through the proxy (target ≥ 0.9× direct)",
				figure:   r.m("tunnel", name, "proxy-calls/s").scaled(1, "calls/s"),
				anchor:   "calls/s, direct",
				anchorM:  r.m("tunnel", name, "direct-calls/s").scaled(1, "calls/s"),
				commands: []string{r.command},
			}
		}
		lines = append(lines,
			added("BenchmarkStdioRoundTrip", "stdio"),
			throughput("BenchmarkStdioThroughput", "stdio, 32 in flight"),
			added("BenchmarkHTTPRawRoundTrip", "HTTP bare POST"),
			added("BenchmarkHTTPRoundTrip", "HTTP, go-sdk client and server"),
			throughput("BenchmarkHTTPThroughput", "HTTP, go-sdk, 16 clients"),
		)
	}
	return lines, r.check()
}
