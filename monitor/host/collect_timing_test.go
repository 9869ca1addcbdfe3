package host

import (
	"context"
	"testing"
	"time"
)

// BenchmarkSystemCollect measures one sample of the real machine. At one
// sample a second, ns/op is the collector's CPU cost per second: 1 % of a
// core is 10 ms, and it should stay far below that.
func BenchmarkSystemCollect(b *testing.B) {
	c := New(Options{})
	ctx := context.Background()
	c.Collect(ctx, time.Now()) // prime the rates, so each op is a full sample
	b.ReportAllocs()
	for b.Loop() {
		s := c.Collect(ctx, time.Now())
		if !s.HostMemoryPercent.OK {
			b.Fatalf("host memory unavailable: %s", s.HostMemoryPercent.Reason)
		}
	}
}
