package tunnel_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
)

// BenchmarkStdioTracing times tools/calls through the stdio tunnel in
// this process, alternately without tracing and with it ("on": exported
// to a collector; "dead": the collector is down): overhead-p50-µs is what
// tracing adds to a call, on top of the tunnel's own cost
// (BenchmarkStdioRoundTrip).
func BenchmarkStdioTracing(b *testing.B) {
	for _, mode := range []string{"on", "dead"} {
		b.Run(mode, func(b *testing.B) {
			off := connectProxiedWith(b, tunnel.Observers{})
			on := connectProxiedWith(b, tunnel.Observers{Telemetry: testenv.Telemetry(b, mode == "dead")})
			compareRoundTrips(b,
				func() { off.send(b, echoCall); off.recv(b) },
				func() { on.send(b, echoCall); on.recv(b) })
		})
	}
}

// BenchmarkHTTPTracing is BenchmarkStdioTracing for the HTTP tunnel, go-sdk
// client and server, all in this process.
func BenchmarkHTTPTracing(b *testing.B) {
	for _, mode := range []string{"on", "dead"} {
		b.Run(mode, func(b *testing.B) {
			up := httptest.NewServer(mcpHandler(false))
			b.Cleanup(up.Close)
			tunnelURL := func(obs tunnel.Observers) string {
				h, err := tunnel.NewHTTP(newMonitor(), up.URL+"/mcp", tunnel.HTTPOptions{Logger: slog.New(slog.DiscardHandler), Observers: obs})
				if err != nil {
					b.Fatal(err)
				}
				srv := httptest.NewServer(h)
				b.Cleanup(srv.Close)
				return srv.URL + "/mcp"
			}
			off := connectHTTP(b, tunnelURL(tunnel.Observers{}))
			on := connectHTTP(b, tunnelURL(tunnel.Observers{Telemetry: testenv.Telemetry(b, mode == "dead")}))
			ctx := context.Background()
			call := func(cs *mcp.ClientSession) func() {
				return func() {
					if _, err := cs.CallTool(ctx, echoParams); err != nil {
						b.Fatal(err)
					}
				}
			}
			compareRoundTrips(b, call(off), call(on))
		})
	}
}
