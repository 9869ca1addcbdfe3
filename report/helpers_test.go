package report

import (
	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// newTestMonitor returns a monitor on a fake clock without host collection,
// so every figure in it is determined by the test.
func newTestMonitor(opts monitor.Options) (*monitor.Monitor, *testenv.Clock) {
	c := testenv.NewClock()
	opts.Now = c.Now
	opts.DisableSystem = true
	return monitor.New(opts), c
}
