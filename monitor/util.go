package monitor

import (
	"cmp"
	"slices"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func round2(v float64) float64 { return metric.Round(v, 2) }
