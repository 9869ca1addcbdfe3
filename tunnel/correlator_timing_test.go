package tunnel

import (
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// BenchmarkCorrelatorTracing is the tunnel's own work for one tools/call
// and its answer, without the relay: reading both messages, timing the
// call and, with tracing on, the spans, the context handed on and the
// rewritten request. The spans go to a collector that takes everything.
func BenchmarkCorrelatorTracing(b *testing.B) {
	req := []byte(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"a short answer"},"_meta":{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}}`)
	res := []byte(`{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"a short answer"}]}}`)
	for _, traced := range []bool{false, true} {
		name := "off"
		obs := Observers{}
		if traced {
			name, obs.Telemetry = "on", testenv.Telemetry(b, false)
		}
		b.Run(name, func(b *testing.B) {
			mt, err := newMeters(monitor.New(monitor.Options{DisableSystem: true}), monitor.TransportStdio)
			if err != nil {
				b.Fatal(err)
			}
			co := newCorrelator[stdioCall](mt, obs)
			var msgs []message
			b.ReportAllocs()
			for b.Loop() {
				now := time.Now()
				msgs, _ = decode(req, msgs)
				h := hop[stdioCall]{now: now, requests: &co.c2s, alone: true, raw: req}
				co.fromClient(&msgs[0], &h)
				msgs, _ = decode(res, msgs)
				h = hop[stdioCall]{now: time.Now(), requests: &co.c2s, alone: true, raw: res}
				co.fromServer(&msgs[0], &h)
			}
		})
	}
}
