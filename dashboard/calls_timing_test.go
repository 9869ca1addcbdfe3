package dashboard

import (
	"context"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// BenchmarkCalls is one GET /api/calls?limit=100 over a full ring of
// 10 000 realistic calls, in process: the server's own cost of a page.
func BenchmarkCalls(b *testing.B) {
	m := monitor.New(monitor.Options{DisableSystem: true})
	clients := []monitor.ClientInfo{{Name: "claude-code", Version: "2.1.0"}, {Name: "cursor", Version: "1.7"}}
	for i := range monitor.DefaultCallRing {
		c := monitor.Call{Start: time.Now(), Duration: time.Duration(i%997) * 10 * time.Microsecond, Method: monitor.MethodToolsCall,
			Tool: "tool_" + strconv.Itoa(i%10), Session: "session-" + strconv.Itoa(i%40), Client: clients[i%2],
			Transport: monitor.TransportHTTP, RequestBytes: int64(100 + i%300), ResponseBytes: int64(1000 + i%5000), ResponseTokens: int64(200 + i%900)}
		if i%11 == 0 {
			c.ErrorType, c.Error = monitor.ErrorTypeTool, "no entity named entity_"+strconv.Itoa(i)
		}
		m.RecordCall(c)
	}
	h, err := Handler(context.Background(), m, Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{"limit=100", "limit=100&tool=tool_3&outcome=failed"} {
		b.Run(q, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest("GET", "http://127.0.0.1/api/calls?"+q, nil))
				if w.Code != 200 {
					b.Fatal(w.Code, w.Body.String())
				}
			}
		})
	}
}
