package mcpserver_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
	"github.com/mcp-pba-tunnel/pbatunnel/mcpserver"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/telemetry"
)

// BenchmarkServeTracing times a cheap tools/call over Streamable HTTP,
// go-sdk client and server in this process, alternately to a server
// without tracing and to one exporting every span over OTLP ("on": to a
// collector that takes everything; "dead": to none). overhead-p50-µs is
// what tracing adds to a call.
func BenchmarkServeTracing(b *testing.B) {
	for _, mode := range []string{"on", "dead"} {
		b.Run(mode, func(b *testing.B) {
			tel := testenv.Telemetry(b, mode == "dead")
			off, on := echoSession(b, nil), echoSession(b, tel)
			ctx := context.Background()
			params := &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "a short answer"}}
			call := func(cs *mcp.ClientSession) func() {
				return func() {
					if _, err := cs.CallTool(ctx, params); err != nil {
						b.Fatal(err)
					}
				}
			}
			offT, onT := testenv.Paired(b, call(off), call(on))
			p50 := func(d []time.Duration) float64 {
				slices.Sort(d)
				return float64(d[len(d)/2].Nanoseconds()) / 1000
			}
			o, t := p50(offT), p50(onT)
			b.ReportMetric(o, "off-p50-µs")
			b.ReportMetric(t, "on-p50-µs")
			b.ReportMetric(t-o, "overhead-p50-µs")
		})
	}
}

// echoSession is a client session to a server with an echo tool, traced
// by tel (nil: not traced).
func echoSession(b *testing.B, tel *telemetry.Telemetry) *mcp.ClientSession {
	srv := mcpserver.New(mcpserver.Options{Monitor: monitor.New(monitor.Options{DisableSystem: true}), Telemetry: tel})
	mcp.AddTool(srv, &mcp.Tool{Name: "echo"}, func(_ context.Context, _ *mcp.CallToolRequest, in struct {
		Text string `json:"text"`
	}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Text}}}, nil, nil
	})
	h, err := mcpserver.HTTPHandler(srv, nil)
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(h)
	b.Cleanup(hs.Close)
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil).
		Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: hs.URL, DisableStandaloneSSE: true}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cs.Close() })
	return cs
}
