package report

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

func TestTrendOfKnownSeries(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	tests := []struct {
		name      string
		f         func(minute float64) float64
		points    int
		want      string
		wantSlope float64 // per minute; NaN = don't check
	}{
		{"rising 2/min", func(x float64) float64 { return 10 + 2*x }, 30, TrendIncreasing, 2},
		{"falling 0.5/min", func(x float64) float64 { return 50 - 0.5*x }, 30, TrendDecreasing, -0.5},
		{"flat", func(float64) float64 { return 42 }, 30, TrendStable, 0},
		{"flat at zero", func(float64) float64 { return 0 }, 30, TrendStable, 0},
		{"noise around 50", func(float64) float64 { return 50 + rng.NormFloat64() }, 60, TrendStable, math.NaN()},
		{"too few points", func(x float64) float64 { return x }, 2, TrendInsufficient, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a trendAcc
			for i := range tt.points {
				x := float64(i) / 2 // a point every 30 s
				a.add(x, tt.f(x))
			}
			tr := a.trend()
			if tr.Direction != tt.want {
				t.Errorf("direction %s, want %s (slope %v)", tr.Direction, tt.want, tr.SlopePerMinute)
			}
			if !math.IsNaN(tt.wantSlope) && math.Abs(tr.SlopePerMinute-tt.wantSlope) > 1e-9 {
				t.Errorf("slope %v, want %v", tr.SlopePerMinute, tt.wantSlope)
			}
			if tr.Samples != tt.points {
				t.Errorf("samples %d, want %d", tr.Samples, tt.points)
			}
		})
	}
}

func TestTrendsOverSnapshots(t *testing.T) {
	m, clock := newTestMonitor(monitor.Options{})
	entries := 100.0
	_ = m.RegisterGauge(monitor.GaugeMemoryEntries, func() (float64, error) { return entries, nil })
	for range 10 {
		m.Sample(t.Context())
		clock.Advance(30 * time.Second)
		entries += 10
	}
	tr := Latest(m).Trends[monitor.GaugeMemoryEntries]
	if tr.Direction != TrendIncreasing || math.Abs(tr.SlopePerMinute-20) > 1e-9 || tr.Min != 100 || tr.Max != 190 || tr.Avg != 145 {
		t.Errorf("trend %+v, want increasing at 20/min over 100..190", tr)
	}
}
