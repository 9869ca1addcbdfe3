package alert

import (
	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// rig is a monitor and the engine judging it, on one fake clock.
type rig struct {
	*monitor.Monitor
	*Engine
}

// newRig returns a monitor on a fake clock without host collection, so
// every figure in it is determined by the test, and its engine.
func newRig(opts Options) (rig, *testenv.Clock) {
	c := testenv.NewClock()
	m := monitor.New(monitor.Options{Now: c.Now, DisableSystem: true})
	return rig{m, New(m, opts)}, c
}
