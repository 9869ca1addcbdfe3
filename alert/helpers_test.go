package alert

import (
	"sync"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// fakeClock is a settable clock for tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// rig is a monitor and the engine judging it, on one fake clock.
type rig struct {
	*monitor.Monitor
	*Engine
}

// newRig returns a monitor on a fake clock without host collection, so
// every figure in it is determined by the test, and its engine.
func newRig(opts Options) (rig, *fakeClock) {
	c := &fakeClock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	m := monitor.New(monitor.Options{Now: c.Now, DisableSystem: true})
	return rig{m, New(m, opts)}, c
}
