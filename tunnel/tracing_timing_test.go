package tunnel_test

import (
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
	"github.com/mcp-pba-tunnel/pbatunnel/telemetry"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
)

// The modes of the tracing benchmarks: exported to a collector that takes
// everything ("on"), to one that is down ("dead"), and "on" for a client
// that sends its own trace context in _meta ("on-traced-client"), which the
// tunnel replaces with its own: there the server reads a _meta either way,
// and the overhead is the tunnel's alone; without it, part of the overhead
// is the server reading the _meta the tunnel adds. "control" traces in
// neither arm: what the method gives two identical set-ups, the noise
// under the others.
var tracingModes = []string{"on", "dead", "on-traced-client", "control"}

// tracedWith is the telemetry of the traced arm in mode: nil for the
// control.
func tracedWith(b *testing.B, mode string) *telemetry.Telemetry {
	if mode == "control" {
		return nil
	}
	return testenv.Telemetry(b, mode == "dead")
}

const callerTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// BenchmarkStdioTracing times tools/calls through the stdio tunnel in
// this process, alternately without tracing and with it (tracingModes):
// overhead-p50-µs is what tracing adds to a call, on top of the tunnel's
// own cost (BenchmarkStdioRoundTrip).
func BenchmarkStdioTracing(b *testing.B) {
	traced := []byte(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"_meta":{"traceparent":"` + callerTraceparent +
		`"},"name":"echo","arguments":{"text":"a short answer"}}}` + "\n")
	for _, mode := range tracingModes {
		b.Run(mode, func(b *testing.B) {
			call := echoCall
			if mode == "on-traced-client" {
				call = traced
			}
			off := connectProxiedWith(b, tunnel.Observers{})
			on := connectProxiedWith(b, tunnel.Observers{Telemetry: tracedWith(b, mode)})
			compareRoundTrips(b,
				func() { off.send(b, call); off.recv(b) },
				func() { on.send(b, call); on.recv(b) })
		})
	}
}

// BenchmarkHTTPTracing is BenchmarkStdioTracing for the HTTP tunnel: the
// go-sdk client and the tunnels in this process, the go-sdk server in a
// process of its own, as the stdio benchmark's server is (in this one, the
// server's own work of reading the _meta the tunnel adds would be timed
// as the tunnel's).
func BenchmarkHTTPTracing(b *testing.B) {
	for _, mode := range tracingModes {
		b.Run(mode, func(b *testing.B) {
			up := startBenchProcess(b, "mcp")
			off := connectHTTP(b, httpTunnelURL(b, up, tunnel.Observers{}))
			on := connectHTTP(b, httpTunnelURL(b, up, tunnel.Observers{Telemetry: tracedWith(b, mode)}))
			call := toolCaller(b, tracingParams(mode))
			compareRoundTrips(b, call(off), call(on))
		})
	}
}

// BenchmarkHTTPTracingOwnProcess is BenchmarkHTTPTracing with the tunnels
// as users run them, each in a process of its own, the traced one
// exporting to a collector in a third (or to an address where none
// listens, "dead"): the benchmark's process holds the go-sdk client alone.
func BenchmarkHTTPTracingOwnProcess(b *testing.B) {
	for _, mode := range tracingModes {
		b.Run(mode, func(b *testing.B) {
			up := startBenchProcess(b, "mcp") + "/mcp"
			traced := []string{envBenchUpstream + "=" + up}
			switch mode {
			case "dead":
				traced = append(traced, envBenchOTLP+"=http://"+testenv.Addr(testenv.FreePort(b)))
			case "control":
			default:
				traced = append(traced, envBenchOTLP+"="+startBenchProcess(b, "collector"))
			}
			off := connectHTTP(b, startBenchProcess(b, "proxy", envBenchUpstream+"="+up)+"/mcp")
			on := connectHTTP(b, startBenchProcess(b, "proxy", traced...)+"/mcp")
			compareRoundTrips(b, toolCaller(b, tracingParams(mode))(off), toolCaller(b, tracingParams(mode))(on))
		})
	}
}

// BenchmarkServerMetaCost is what a go-sdk server pays, with no proxy
// between, to read a request whose _meta carries a traceparent, against
// the same request without one ("control": without one in either arm):
// the cost of joining a trace to any go-sdk server, which a proxy that
// hands the trace on adds to a client that sends none.
func BenchmarkServerMetaCost(b *testing.B) {
	for _, mode := range []string{"traceparent", "control"} {
		b.Run(mode, func(b *testing.B) {
			up := startBenchProcess(b, "mcp") + "/mcp"
			with := tracingParams("on-traced-client")
			if mode == "control" {
				with = echoParams
			}
			compareRoundTrips(b, toolCaller(b, echoParams)(connectHTTP(b, up)), toolCaller(b, with)(connectHTTP(b, up)))
		})
	}
}

// tracingParams is the tools/call a client makes in a tracing mode: with
// its own trace context in _meta for "on-traced-client".
func tracingParams(mode string) *mcp.CallToolParams {
	if mode != "on-traced-client" {
		return echoParams
	}
	return &mcp.CallToolParams{Meta: mcp.Meta{"traceparent": callerTraceparent}, Name: echoParams.Name, Arguments: echoParams.Arguments}
}

// BenchmarkHTTPRawTracing is BenchmarkHTTPTracing ("on") without an SDK on
// either side, as BenchmarkHTTPRawRoundTrip is: bare POSTs of a tools/call,
// answered with a fixed body by a server in its own process that reads
// nothing of them, so that what shows is the tunnel's own tracing (spans,
// the rewritten _meta, the export), not the server's reading of the
// larger request.
func BenchmarkHTTPRawTracing(b *testing.B) {
	up := startBenchProcess(b, "raw")
	off, on := httpTunnelURL(b, up, tunnel.Observers{}), httpTunnelURL(b, up, tunnel.Observers{Telemetry: testenv.Telemetry(b, false)})
	post := rawPoster(b)
	compareRoundTrips(b, post(off), post(on))
}

// httpTunnelURL serves an HTTP tunnel to the server at up, fed to obs, in
// this process, and returns its endpoint.
func httpTunnelURL(b *testing.B, up string, obs tunnel.Observers) string {
	h, err := tunnel.NewHTTP(newMonitor(), up+"/mcp", tunnel.HTTPOptions{Logger: slog.New(slog.DiscardHandler), Observers: obs})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	return srv.URL + "/mcp"
}
