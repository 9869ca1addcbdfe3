package main

import "context"

// hotPathRow is RecordToolUsage against the two usual ways of timing a
// labelled operation in Go, serially and from every CPU at once.
func hotPathRow(ctx context.Context, e *env) ([]line, error) {
	r, err := e.goBench(ctx, "RecordToolUsage|Anchor", e.benchFlags("", 5, "-benchmem"), "monitor")
	if err != nil {
		return nil, err
	}
	anchors := []struct{ bench, what string }{
		{"BenchmarkAnchorClientGolang", "client_golang `WithLabelValues(tool).Observe`"},
		{"BenchmarkAnchorVictoriaMetrics", "VictoriaMetrics `GetOrCreateHistogram(name).Update`"},
	}
	var lines []line
	for _, mode := range []string{"serial", "parallel"} {
		fig := r.m("monitor", "BenchmarkRecordToolUsage/"+mode, "ns/op")
		for _, a := range anchors {
			lines = append(lines, line{
				what:     "`RecordToolUsage`, " + mode + ", 4 tools",
				figure:   fig,
				anchor:   a.what,
				anchorM:  r.m("monitor", a.bench+"/"+mode, "ns/op"),
				commands: []string{r.command},
			})
		}
	}
	return lines, r.check()
}
