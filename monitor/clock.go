package monitor

import (
	"context"
	"sync/atomic"
	"time"
)

// clockResolution is how stale a coarse timestamp may be. last_used is
// reported to the second, so 100 ms is plenty, and ten wake-ups a second
// cost nothing measurable.
const clockResolution = 100 * time.Millisecond

// coarseClock serves the hot path a wall-clock time for the price of an
// atomic load: on the machines we run on time.Now costs 30–60 ns, more than
// the whole of RecordToolUsage is allowed. When the ticker is not running
// (before Start, or with an injected clock) it falls back to the real clock.
type coarseClock struct {
	ns      atomic.Int64
	running atomic.Bool
	now     func() time.Time
}

func (c *coarseClock) unixNano() int64 {
	if c.running.Load() {
		return c.ns.Load()
	}
	return c.now().UnixNano()
}

// run keeps the clock fresh until ctx ends.
func (c *coarseClock) run(ctx context.Context) {
	c.ns.Store(c.now().UnixNano())
	c.running.Store(true)
	defer c.running.Store(false)
	t := time.NewTicker(clockResolution)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.ns.Store(c.now().UnixNano())
		}
	}
}
