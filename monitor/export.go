package monitor

import "time"

// HistogramExport is one since-start latency histogram at DurationBounds,
// for exporters: the successes of a tool or method, or its failures of one
// error type. Count, Sum and Buckets are of one moment, so Count equals
// the last bucket's count plus the observations above the last bound, and
// Sum is the sum of exactly those observations. They only ever grow.
type HistogramExport struct {
	Method    string // the MCP method: tools/call for tools
	Tool      string // "" for methods other than tools/call
	ErrorType string // "" for successes
	Count     uint64
	Sum       time.Duration
	// Buckets are cumulative counts of observations at or below each bound
	// of DurationBounds (Prometheus' le), exact rather than interpolated.
	Buckets []uint64
}

// LiveToolHistograms returns the latency histograms of every tool and of every
// MCP method but tools/call (whose calls the tools' histograms already
// hold), successes and each error type apart. It reads the live counters,
// not the latest sample, so a scrape sees every call completed before it.
// Safe for concurrent use; recording never waits for it.
func (m *Monitor) LiveToolHistograms() []HistogramExport {
	var out []HistogramExport
	var counts [boundBuckets]uint64
	read := func(method, tool, errType string, h *boundHist) {
		n, sum := h.read(&counts)
		if n == 0 {
			return
		}
		e := HistogramExport{Method: method, Tool: tool, ErrorType: errType, Count: n, Sum: time.Duration(sum),
			Buckets: make([]uint64, len(durationBounds))}
		var cum uint64
		for i := range e.Buckets {
			cum += counts[i]
			e.Buckets[i] = cum
		}
		out = append(out, e)
	}
	each := func(method, tool string, l *latencyStats) {
		read(method, tool, "", &l.okExp)
		l.eachErrType(func(errType string, e *boundHist) {
			read(method, tool, errType, e)
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
