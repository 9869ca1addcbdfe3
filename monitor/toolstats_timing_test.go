package monitor

import (
	"strconv"
	"testing"
	"time"

	vm "github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

// The hot path against the anchors the targets are set by, in one run:
//
//	go test -run '^$' -bench 'RecordToolUsage|Anchor' -benchmem ./monitor
//
// BenchmarkAnchorClientGolang is client_golang's
// HistogramVec.WithLabelValues(tool).Observe, the usual way to time a
// labelled operation in Go; BenchmarkAnchorVictoriaMetrics is
// VictoriaMetrics/metrics' GetOrCreateHistogram(name).Update.

var benchTools = []string{"enhanced_memory", "code_analysis", "performance_report", "read_graph"}

func BenchmarkRecordToolUsage(b *testing.B) {
	m := New(Options{DisableSystem: true})
	// A running monitor, as in production: its coarse clock spares the hot
	// path a time.Now call.
	if err := m.Start(b.Context(), time.Hour); err != nil {
		b.Fatal(err)
	}
	defer m.Stop()
	for _, t := range benchTools {
		m.RecordToolUsage(t, time.Millisecond, true)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			m.RecordToolUsage(benchTools[i&3], time.Duration(i&1023)*time.Microsecond, i&15 != 0)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				m.RecordToolUsage(benchTools[i&3], time.Duration(i&1023)*time.Microsecond, i&15 != 0)
			}
		})
	})
}

// BenchmarkRecordToolUsageNotStarted is the hot path of a monitor that
// only records and is never started, as a library user may keep one: it
// must cost no more than a started one.
func BenchmarkRecordToolUsageNotStarted(b *testing.B) {
	m := New(Options{DisableSystem: true})
	for _, t := range benchTools {
		m.RecordToolUsage(t, time.Millisecond, true)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			m.RecordToolUsage(benchTools[i&3], time.Duration(i&1023)*time.Microsecond, i&15 != 0)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				m.RecordToolUsage(benchTools[i&3], time.Duration(i&1023)*time.Microsecond, i&15 != 0)
			}
		})
	})
}

func BenchmarkAnchorClientGolang(b *testing.B) {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tool_duration_seconds",
		Buckets: prometheus.DefBuckets,
	}, []string{"tool"})
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			h.WithLabelValues(benchTools[i&3]).Observe(float64(i&1023) / 1e6)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				h.WithLabelValues(benchTools[i&3]).Observe(float64(i&1023) / 1e6)
			}
		})
	})
}

func BenchmarkAnchorVictoriaMetrics(b *testing.B) {
	set := vm.NewSet()
	names := make([]string, len(benchTools))
	for i, t := range benchTools {
		names[i] = `tool_duration_seconds{tool="` + t + `"}`
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			set.GetOrCreateHistogram(names[i&3]).Update(float64(i&1023) / 1e6)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				set.GetOrCreateHistogram(names[i&3]).Update(float64(i&1023) / 1e6)
			}
		})
	})
}

// BenchmarkSample is the cost of one sample with 20 tools, which at a 1 s
// interval is the monitor's share of a core.
func BenchmarkSample(b *testing.B) {
	for _, sys := range []bool{false, true} {
		b.Run("system="+strconv.FormatBool(sys), func(b *testing.B) {
			m := New(Options{DisableSystem: !sys, MaxSamples: 100})
			for i := range 20 {
				m.RecordToolUsage("tool_"+strconv.Itoa(i), time.Millisecond, true)
			}
			b.ReportAllocs()
			for b.Loop() {
				m.Sample(b.Context())
			}
		})
	}
}
