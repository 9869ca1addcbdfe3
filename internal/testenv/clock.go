package testenv

import (
	"sync"
	"time"
)

// Clock is a settable clock for tests, starting at a fixed instant, so
// that every time a monitor reads from it is determined by the test. Pass
// its Now as monitor.Options.Now. Safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at 2026-11-26 12:00 UTC.
func NewClock() *Clock { return NewClockAt(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)) }

// NewClockAt returns a clock at t.
func NewClockAt(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
