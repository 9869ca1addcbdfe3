package monitor

import (
	"testing"
	"time"
)

// BenchmarkCustomLookup gets a named custom metric's handle and records
// through it, as code that does not keep the handle does:
//
//	go test -run '^$' -bench CustomLookup -benchmem ./monitor
func BenchmarkCustomLookup(b *testing.B) {
	m := New(Options{DisableSystem: true})
	b.Run("Counter", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.Counter("documents_indexed").Inc()
		}
	})
	b.Run("Gauge", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.Gauge("queue_depth").Set(3)
		}
	})
	b.Run("Timer", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.Timer("embedding").Observe(time.Millisecond, true)
		}
	})
	// The same counter through a kept handle: what the lookup adds.
	b.Run("Counter/kept", func(b *testing.B) {
		c := m.Counter("documents_indexed")
		b.ReportAllocs()
		for b.Loop() {
			c.Inc()
		}
	})
}
