package testenv

import (
	"testing"
	"time"
)

// Paired runs b.N pairs of calls, one to a and one to c, and returns the
// time each call took. Within a pair the order switches every time: the
// second call of a pair starts while the first one's aftermath (a server
// closing its stream, a client's goroutines winding down) still holds a
// core, and on a 2-core machine that alone made the second call of two
// identical set-ups 3 to 6 µs slower at the median (docs/BENCHMARKS.md,
// section 9). The benchmark's timer runs only around the pairs.
func Paired(b *testing.B, a, c func()) (at, ct []time.Duration) {
	at, ct = make([]time.Duration, 0, b.N), make([]time.Duration, 0, b.N)
	timed := func(f func()) time.Duration {
		start := time.Now()
		f()
		return time.Since(start)
	}
	b.ResetTimer()
	for i := range b.N {
		if i%2 == 0 {
			at = append(at, timed(a))
			ct = append(ct, timed(c))
		} else {
			ct = append(ct, timed(c))
			at = append(at, timed(a))
		}
	}
	b.StopTimer()
	return at, ct
}
