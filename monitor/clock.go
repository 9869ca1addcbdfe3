package monitor

import (
	"sync"
	"sync/atomic"
	"time"
)

// clockResolution is how stale a coarse timestamp may be. last_used is
// reported to the second, so 100 ms is plenty, and ten wake-ups a second
// while tools are being called cost nothing measurable.
const clockResolution = 100 * time.Millisecond

// coarseClock serves the hot path a wall-clock time for the price of an
// atomic load: on the machines we run on time.Now costs 30–60 ns, more than
// the whole of RecordToolUsage is allowed.
//
// It runs on use, not on Start, so that a monitor that only records, and is
// never started, pays no more than a running one. The first read starts a
// timer that refreshes the time every resolution; a period in which nobody
// read the clock stops it, and the next read starts it again. No goroutine
// waits between refreshes, so an idle clock holds nothing: nothing to stop,
// nothing to leak. A clock read less often than once a resolution reads the
// real clock each time, which at that rate costs nothing.
//
// With an injected clock (tests) every read calls now, so that timestamps
// are exact.
type coarseClock struct {
	ns      atomic.Int64 // unix ns as of the last refresh
	running atomic.Bool  // the timer is armed and ns is fresh
	used    atomic.Bool  // read since the last refresh

	now        func() time.Time
	coarse     bool // false: always call now
	resolution time.Duration

	mu    sync.Mutex  // starting and refreshing
	timer *time.Timer // made on first use, then re-armed
}

func (c *coarseClock) unixNano() int64 {
	if c.running.Load() {
		// Written once a period at most, so that concurrent readers do not
		// fight over the cache line.
		if !c.used.Load() {
			c.used.Store(true)
		}
		return c.ns.Load()
	}
	if !c.coarse {
		return c.now().UnixNano()
	}
	return c.start()
}

// start reads the real clock and arms the timer that keeps it fresh.
func (c *coarseClock) start() int64 {
	ns := c.now().UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running.Load() { // another reader started it meanwhile
		return ns
	}
	c.ns.Store(ns)
	c.used.Store(false)
	c.running.Store(true)
	if c.timer == nil {
		c.timer = time.AfterFunc(c.resolution, c.refresh)
	} else {
		c.timer.Reset(c.resolution)
	}
	return ns
}

// refresh runs on the timer: it renews the time while the clock is read,
// and stops it after a period in which nobody did.
func (c *coarseClock) refresh() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.used.Swap(false) {
		c.running.Store(false)
		return
	}
	c.ns.Store(c.now().UnixNano())
	c.timer.Reset(c.resolution)
}
