package report

import (
	"math"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// Trend directions.
const (
	TrendIncreasing   = "increasing"
	TrendDecreasing   = "decreasing"
	TrendStable       = "stable"
	TrendInsufficient = "insufficient_data"
)

// trendMinPoints is the fewest measured points a direction is called from.
const trendMinPoints = 3

// stableFraction: a series is stable when its fitted change over the window
// is within this fraction of its mean magnitude. 5 % keeps sampling noise
// from flapping between directions while a real drift still shows.
const stableFraction = 0.05

// A Trend summarises one series over the trend window: the least-squares
// slope, the direction it implies, and the range of values.
type Trend struct {
	Direction      string  `json:"direction"`
	SlopePerMinute float64 `json:"slope_per_minute"`
	Min            float64 `json:"min"`
	Avg            float64 `json:"avg"`
	Max            float64 `json:"max"`
	Samples        int     `json:"samples"`
	WindowMinutes  float64 `json:"window_minutes"`
}

// trendAcc accumulates a least-squares fit in one pass, so trends over a
// day of history need no per-series buffers.
type trendAcc struct {
	n                int
	sx, sy, sxx, sxy float64
	min, max         float64
	firstX, lastX    float64
}

// add adds the value v at x minutes after a reference time common to the
// series (the fit does not depend on which).
func (a *trendAcc) add(x, v float64) {
	if a.n == 0 {
		a.min, a.max = v, v
		a.firstX = x
	}
	a.lastX = x
	a.n++
	a.sx += x
	a.sy += v
	a.sxx += x * x
	a.sxy += x * v
	a.min = math.Min(a.min, v)
	a.max = math.Max(a.max, v)
}

func (a *trendAcc) trend() Trend {
	n := float64(a.n)
	tr := Trend{Samples: a.n, WindowMinutes: a.lastX - a.firstX}
	if a.n == 0 {
		tr.Direction = TrendInsufficient
		return tr
	}
	tr.Min, tr.Max, tr.Avg = a.min, a.max, a.sy/n
	den := n*a.sxx - a.sx*a.sx
	if a.n < trendMinPoints || den <= 0 {
		tr.Direction = TrendInsufficient
		return tr
	}
	tr.SlopePerMinute = (n*a.sxy - a.sx*a.sy) / den
	change := tr.SlopePerMinute * tr.WindowMinutes
	scale := math.Abs(tr.Avg)
	switch {
	case scale == 0 && change == 0:
		tr.Direction = TrendStable
	case change > stableFraction*scale:
		tr.Direction = TrendIncreasing
	case change < -stableFraction*scale:
		tr.Direction = TrendDecreasing
	default:
		tr.Direction = TrendStable
	}
	return tr
}

// Trends computes a Trend for every series measured at least once in the
// snapshots (oldest first).
func Trends(snaps []*monitor.Snapshot) map[string]Trend {
	accs := make(map[string]*trendAcc)
	// Consecutive snapshots list their series in the same order, so the
	// accumulator of the i-th series of the last snapshot is usually the
	// right one for the i-th of this: a string comparison instead of a
	// map lookup for nearly every point.
	var order []string
	var slots []*trendAcc
	for _, s := range snaps {
		x := s.Time.Sub(snaps[0].Time).Minutes()
		i := 0
		s.EachSeries(func(name string, r metric.Reading) {
			var a *trendAcc
			if i < len(order) && order[i] == name {
				a = slots[i]
			} else {
				a = accs[name]
				if a == nil {
					a = &trendAcc{}
					accs[name] = a
				}
				if i < len(order) {
					order[i], slots[i] = name, a
				} else {
					order, slots = append(order, name), append(slots, a)
				}
			}
			i++
			if r.OK {
				a.add(x, r.Value)
			}
		})
	}
	out := make(map[string]Trend, len(accs))
	for name, a := range accs {
		if a.n > 0 {
			out[name] = a.trend()
		}
	}
	return out
}
