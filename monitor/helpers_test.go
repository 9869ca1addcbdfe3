package monitor

import "github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"

// newTestMonitor returns a monitor on a fake clock without host collection,
// so every figure in it is determined by the test.
func newTestMonitor(opts Options) (*Monitor, *testenv.Clock) {
	c := testenv.NewClock()
	opts.Now = c.Now
	opts.DisableSystem = true
	return New(opts), c
}
