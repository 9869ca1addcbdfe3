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
	// The floors: a process between client and server that copies the
	// bytes and reads none of them (stdio), and httputil.ReverseProxy
	// measuring nothing (HTTP). No relay process does better than these on
	// the same machine.
	floor := func(name, what, metric, unit, anchor, anchorMetric string) line {
		return line{
			what:     what,
			figure:   r.m("tunnel", name, metric).scaled(1, unit),
			anchor:   anchor,
			anchorM:  r.m("tunnel", name, anchorMetric).scaled(1, unit),
			commands: []string{r.command},
		}
	}
	lines = append(lines,
		floor("BenchmarkStdioRoundTrip/relay-floor", "floor, stdio: p50 time a do-nothing relay process adds",
			"overhead-p50-µs", "µs", "p50 round trip, direct", "direct-p50-µs"),
		floor("BenchmarkStdioThroughput/relay-floor", "floor, stdio, 32 in flight: calls/s through a do-nothing relay process",
			"proxy-calls/s", "calls/s", "calls/s, direct", "direct-calls/s"),
		floor("BenchmarkHTTPRelayFloor/round-trip", "floor, HTTP go-sdk: p50 time a bare httputil.ReverseProxy process adds",
			"overhead-p50-µs", "µs", "p50 round trip, direct", "direct-p50-µs"),
		floor("BenchmarkHTTPRelayFloor/throughput", "floor, HTTP go-sdk, 16 clients: calls/s through a bare httputil.ReverseProxy process",
			"proxy-calls/s", "calls/s", "calls/s, direct", "direct-calls/s"),
	)
	return lines, r.check()
}
