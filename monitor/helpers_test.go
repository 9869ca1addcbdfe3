package monitor

import (
	"sync"
	"time"
)

// fakeClock is a settable clock for tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
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

// newTestMonitor returns a monitor on a fake clock without host collection,
// so every figure in it is determined by the test.
func newTestMonitor(opts Options) (*Monitor, *fakeClock) {
	c := newFakeClock()
	opts.now = c.Now
	opts.DisableSystem = true
	return New(opts), c
}
