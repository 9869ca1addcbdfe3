package tunnel_test

import (
	"testing"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// countOf sums the requests of every method in a snapshot.
func countOf(methods map[string]monitor.LatencySummary) uint64 {
	var n uint64
	for _, l := range methods {
		n += l.Count
	}
	return n
}

// checkCalls checks that the tunnel recorded each request as one call over
// transport, as many as the method counters counted, tools named.
func checkCalls(t *testing.T, m *monitor.Monitor, transport string, want uint64) {
	t.Helper()
	calls := m.RecentCalls(0, 1000)
	if uint64(len(calls)) != want {
		t.Errorf("%d calls recorded, the method counters count %d", len(calls), want)
	}
	for _, c := range calls {
		if c.Transport != transport || c.Method == "" || c.Start.IsZero() || (c.Method == monitor.MethodToolsCall && c.Tool == "") {
			t.Errorf("call %+v: want transport %s, a method, a start, and the tool of a tools/call", c, transport)
		}
	}
}
