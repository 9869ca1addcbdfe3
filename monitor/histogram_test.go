package monitor

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketBoundsContainValue(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	values := []uint64{0, 1, 15, 16, 31, 32, 33, 63, 64, 1000, 1 << 20, 1<<46 - 1}
	for range 10000 {
		values = append(values, uint64(rng.Int64N(1<<46)))
	}
	for _, v := range values {
		i := bucketOf(v)
		lo, hi := bucketBounds(i)
		if float64(v) < lo || float64(v) >= hi {
			t.Fatalf("value %d in bucket %d = [%g, %g)", v, i, lo, hi)
		}
		if v >= 32 && (hi-lo)/lo > 1.0/histSub+1e-12 {
			t.Fatalf("bucket %d [%g, %g) wider than 1/%d of its bound", i, lo, hi, histSub)
		}
	}
	if got := bucketOf(1 << 60); got != histBuckets-1 {
		t.Errorf("huge value in bucket %d, want the last (%d)", got, histBuckets-1)
	}
}

// exactPercentile is the nearest-rank percentile of sorted data.
func exactPercentile(sorted []time.Duration, q float64) time.Duration {
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

// TestPercentilesWithinBound checks the guarantee the report states: every
// percentile is within PercentileRelativeError of the exact nearest-rank
// percentile of the same data.
func TestPercentilesWithinBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	dists := []struct {
		name string
		gen  func() time.Duration
	}{
		{"uniform 1-100ms", func() time.Duration { return time.Millisecond + time.Duration(rng.Int64N(int64(99*time.Millisecond))) }},
		{"lognormal around 20ms", func() time.Duration { return time.Duration(math.Exp(rng.NormFloat64()*1.2) * 20e6) }},
		{"bimodal 50us / 2s", func() time.Duration {
			if rng.IntN(10) == 0 {
				return 2*time.Second + time.Duration(rng.Int64N(int64(time.Second)))
			}
			return 50*time.Microsecond + time.Duration(rng.Int64N(20000))
		}},
		{"tiny values", func() time.Duration { return time.Duration(rng.Int64N(40)) }},
		{"constant", func() time.Duration { return 1234567 * time.Nanosecond }},
	}
	for _, d := range dists {
		for _, n := range []int{1, 2, 7, 100, 10000} {
			l := newLatencyStats()
			data := make([]time.Duration, n)
			for i := range data {
				data[i] = d.gen()
				l.record(data[i], true)
			}
			slices.Sort(data)
			var scratch histScratch
			s := l.summarize(time.Now(), time.Minute, time.Now(), &scratch)
			for _, c := range []struct {
				q   float64
				got time.Duration
			}{{0.50, s.SinceStart.P50}, {0.90, s.SinceStart.P90}, {0.95, s.SinceStart.P95}, {0.99, s.SinceStart.P99}} {
				want := exactPercentile(data, c.q)
				err := math.Abs(float64(c.got-want)) / float64(want)
				if want == 0 {
					err = math.Abs(float64(c.got))
				}
				if err > PercentileRelativeError {
					t.Errorf("%s n=%d p%g: got %v, exact %v, relative error %.4f > %.4f", d.name, n, c.q*100, c.got, want, err, PercentileRelativeError)
				}
			}
			if s.Min != data[0] || s.Max != data[n-1] {
				t.Errorf("%s n=%d: min/max %v/%v, want %v/%v", d.name, n, s.Min, s.Max, data[0], data[n-1])
			}
		}
	}
}

func TestRecentWindowForgetsOldObservations(t *testing.T) {
	l := newLatencyStats()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	window := 5 * time.Minute
	var scratch histScratch
	l.summarize(t0, window, t0, &scratch) // starts the window
	l.record(time.Second, true)           // old and slow
	for i := 1; i <= 10; i++ {
		now := t0.Add(time.Duration(i) * time.Minute)
		l.summarize(now, window, t0, &scratch) // the sampler rotates every tick
		l.record(time.Millisecond, true)
	}
	s := l.summarize(t0.Add(10*time.Minute), window, t0, &scratch)
	if s.SinceStart.Count != 11 || math.Abs(float64(s.SinceStart.P99-time.Second)) > PercentileRelativeError*float64(time.Second) {
		t.Errorf("since start: count %d p99 %v, want 11 and 1s", s.SinceStart.Count, s.SinceStart.P99)
	}
	if s.Recent.Count < 5 || s.Recent.Count > 6 {
		t.Errorf("recent count %d, want the last 5-6 minutes' calls", s.Recent.Count)
	}
	if s.Recent.P99 > time.Millisecond+time.Millisecond/30 {
		t.Errorf("recent p99 %v still sees the old 1s call", s.Recent.P99)
	}
	if span := t0.Add(10 * time.Minute).Sub(s.Recent.Since); span < 4*time.Minute || span > 6*time.Minute {
		t.Errorf("recent window spans %v, want about 5 min", span)
	}
	// A gap longer than the window empties it.
	s = l.summarize(t0.Add(time.Hour), window, t0, &scratch)
	if s.Recent.Count != 0 {
		t.Errorf("after an idle hour the recent window holds %d calls", s.Recent.Count)
	}
}

// TestDurationsPercentiles checks Durations against the exact
// nearest-rank percentiles of the same data, and that merging two halves
// gives what adding everything to one does.
func TestDurationsPercentiles(t *testing.T) {
	var all, a, b Durations
	if _, ok := all.Percentile(0.5); ok {
		t.Error("empty Durations has a percentile")
	}
	var xs []time.Duration
	for i := range 1000 {
		d := time.Duration(i*i%9973+1) * time.Microsecond
		xs = append(xs, d)
		all.Add(d)
		if i%2 == 0 {
			a.Add(d)
		} else {
			b.Add(d)
		}
	}
	a.Merge(&b)
	slices.Sort(xs)
	for _, q := range []float64{0.01, 0.5, 0.95, 0.99, 1} {
		exact := xs[int(math.Ceil(q*float64(len(xs))))-1]
		got, ok := all.Percentile(q)
		if !ok || math.Abs(float64(got-exact)) > PercentileRelativeError*float64(exact) {
			t.Errorf("p%v = %v, exact %v: beyond %.2f %%", q*100, got, exact, 100*PercentileRelativeError)
		}
		if merged, _ := a.Percentile(q); merged != got {
			t.Errorf("p%v of merged halves = %v, of all = %v", q*100, merged, got)
		}
	}
	if all.Count() != 1000 || a.Count() != 1000 {
		t.Errorf("counts %d, %d", all.Count(), a.Count())
	}
	if p, _ := all.Percentile(1); p != xs[len(xs)-1] {
		t.Errorf("max %v, want exactly %v", p, xs[len(xs)-1])
	}
}
