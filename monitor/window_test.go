package monitor

import (
	"math"
	"sync"
	"testing"
	"time"
)

// TestWindowRotationLosesNothing records from several goroutines while a
// reader moves the window on, a slot at a time and now and then past the
// whole window: the since-start figures, which rotation builds from the
// slots it empties, count every observation exactly once. Run under -race.
func TestWindowRotationLosesNothing(t *testing.T) {
	const writers, perWriter = 4, 20_000
	l := newLatencyStats()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	window := 5 * time.Minute
	var scratch histScratch
	l.summarize(t0, window, t0, &scratch)

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				errType := ""
				if i%7 == 0 {
					errType = ErrorTypeTool
				}
				l.recordType(time.Duration(w*perWriter+i)*time.Microsecond, errType)
			}
		})
	}
	done := make(chan struct{})
	reads := 0
	go func() {
		defer close(done)
		now := t0
		for {
			step := time.Minute // one slot
			if reads%10 == 9 {
				step = time.Hour // every slot at once
			}
			now = now.Add(step)
			s := l.summarize(now, window, t0, &scratch)
			reads++
			if s.Count == writers*perWriter && reads > 20 {
				return
			}
		}
	}()
	wg.Wait()
	<-done
	final := t0.Add(1000 * time.Hour)
	for _, step := range []time.Duration{0, time.Minute, time.Hour} {
		s := l.summarize(final.Add(step), window, t0, &scratch)
		if s.Count != writers*perWriter || s.SinceStart.Count != s.Count {
			t.Errorf("after %d reads (+%v): count %d, since start %d; want %d both", reads, step, s.Count, s.SinceStart.Count, writers*perWriter)
		}
		// The durations are 0 to 79 999 µs, once each.
		if exact := 39_999 * time.Microsecond; math.Abs(float64(s.SinceStart.P50-exact)) > PercentileRelativeError*float64(exact) {
			t.Errorf("since-start p50 %v, exact %v", s.SinceStart.P50, exact)
		}
	}
}
