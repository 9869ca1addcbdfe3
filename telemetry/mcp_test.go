package telemetry

import (
	"slices"
	"testing"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// TestBucketsAgreeWithMetrics checks that the OTLP histograms count at the
// bounds /metrics counts at (monitor.DurationBounds), so that a quantile
// read from either backend lands between the same edges; below /metrics'
// finest bound they may have finer ones of their own.
func TestBucketsAgreeWithMetrics(t *testing.T) {
	var want []float64
	for _, d := range monitor.DurationBounds() {
		want = append(want, d.Seconds())
	}
	if !slices.IsSorted(Buckets) {
		t.Fatalf("Buckets not increasing: %v", Buckets)
	}
	i := slices.Index(Buckets, want[0])
	if i < 0 || !slices.Equal(Buckets[i:], want) {
		t.Errorf("Buckets %v, want them to end with /metrics' bounds %v", Buckets, want)
	}
}
