package monitor

import "time"

// ExactBounds maps each wanted histogram upper bound to the nearest bound at
// or above it that the monitor's histograms resolve exactly: the last
// nanosecond of the bucket holding the wanted value, at most 1/16 (6.25 %)
// above it. Exporting at these bounds gives exact cumulative counts, where
// exporting at the wanted bounds themselves would need interpolation.
func ExactBounds(wanted []time.Duration) []time.Duration {
	out := make([]time.Duration, 0, len(wanted))
	for _, w := range wanted {
		b := exactBound(bucketOf(uint64(max(w, 0))))
		if len(out) == 0 || b > out[len(out)-1] {
			out = append(out, b)
		}
	}
	return out
}

func exactBound(bucket int) time.Duration {
	_, hi := bucketBounds(bucket)
	return time.Duration(hi) - 1
}

// HistogramExport is one since-start latency histogram at fixed bounds, for
// exporters: the successes of a tool, or its failures of one error type.
// Counts only ever grow.
type HistogramExport struct {
	Method    string // the MCP method: tools/call for tools
	Tool      string // "" for methods other than tools/call
	ErrorType string // "" for successes
	Count     uint64
	Sum       time.Duration
	// Buckets are cumulative counts of observations at or below each bound
	// given to ToolHistograms.
	Buckets []uint64
}

// ToolHistograms returns the latency histograms of every tool and of every
// MCP method but tools/call (whose calls the tools' histograms already
// hold), successes and each error type apart, at bounds (which should come
// from ExactBounds). Safe for concurrent use; it reads live counters
// without locking the recording path.
func (m *Monitor) ToolHistograms(bounds []time.Duration) []HistogramExport {
	var out []HistogramExport
	idx := make([]int, len(bounds))
	for i, b := range bounds {
		idx[i] = bucketOf(uint64(max(b, 0)))
	}
	read := func(method, tool, errType string, h *histogram, sum uint64) {
		e := HistogramExport{Method: method, Tool: tool, ErrorType: errType, Sum: time.Duration(sum), Buckets: make([]uint64, len(bounds))}
		var cum uint64
		next := 0
		for i := range h.counts {
			cum += h.counts[i].Load()
			for next < len(idx) && idx[next] == i {
				e.Buckets[next] = cum
				next++
			}
		}
		e.Count = cum
		if e.Count == 0 {
			return
		}
		out = append(out, e)
	}
	each := func(method, tool string, l *latencyStats) {
		read(method, tool, "", &l.ok, l.okSumNs.Load())
		l.eachErrType(func(errType string, es *errStats) {
			read(method, tool, errType, &es.hist, es.sumNs.Load())
		})
	}
	m.tools.each(func(name string, t *toolStats) { each(MethodToolsCall, name, &t.latencyStats) })
	each(MethodToolsCall, OtherTool, &m.otherTool.Load().latencyStats)
	m.methods.each(func(name string, l *latencyStats) {
		if name != MethodToolsCall {
			each(name, "", l)
		}
	})
	return out
}
