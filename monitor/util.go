package monitor

import (
	"cmp"
	"slices"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// linePad keeps what every recorder writes off the cache lines of what
// every recorder only reads: a write from one core takes the line from the
// others, whose next read of a neighbouring field waits to fetch it back.
type linePad [cacheLine]byte

// cacheLine is the size of a cache line on the machines we run on.
const cacheLine = 64

func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func round2(v float64) float64 { return metric.Round(v, 2) }
