package monitor

import (
	"testing"
	"time"
)

// TestIntervalReadWhileStarting reads the options and reports while Start
// sets the interval, as a dashboard request may when it arrives before the
// monitor starts: the race detector must find nothing.
func TestIntervalReadWhileStarting(t *testing.T) {
	m := New(Options{DisableSystem: true, Interval: time.Hour})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			_ = m.Options()
			_ = m.Interval()
		}
	}()
	if err := m.Start(t.Context(), time.Minute); err != nil {
		t.Fatal(err)
	}
	<-done
	defer m.Stop()
	if got := m.Options().Interval; got != time.Minute {
		t.Errorf("interval after Start = %v, want 1m", got)
	}
	if got := m.Latest().Interval; got != time.Minute {
		t.Errorf("snapshot interval = %v, want 1m", got)
	}
}
