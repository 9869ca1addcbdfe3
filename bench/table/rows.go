package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// A row measures one section of docs/BENCHMARKS.md.
type row struct {
	num   int
	short string // the row column's label
	// pending, when set, says why the row measures nothing yet; run is
	// nil then.
	pending string
	run     func(ctx context.Context, e *env) ([]line, error)
}

// A line is one figure of a row, beside its anchor when it has one: a
// figure measured in the same run that it is to be compared with.
type line struct {
	what    string
	figure  measure
	anchor  string // what the anchor is; "" for none
	anchorM measure
	// commands produced the figure and its anchor, each ready to paste;
	// how adds what a command line does not say, such as the load this
	// program applied.
	commands []string
	how      string
}

// source is the command column: the commands as code, then how.
func (l line) source() string {
	var cs []string
	for _, c := range l.commands {
		cs = append(cs, "`"+c+"`")
	}
	s := strings.Join(cs, " + ")
	if l.how != "" {
		s += ": " + l.how
	}
	return s
}

// ratio is figure ÷ anchor, the number to compare between machines.
func (l line) ratio() (float64, bool) {
	if l.anchor == "" || l.anchorM.median == 0 {
		return 0, false
	}
	return l.figure.median / l.anchorM.median, true
}

// rows are the table, in order.
var rows = []row{
	{num: 1, short: "hot path", run: hotPathRow},
	{num: 2, short: "graph memory (SQLite, PostgreSQL) vs server-memory", run: graphRow},
	{num: 3, short: "tunnel", run: tunnelRow},
	{num: 4, short: "dashboard API", run: dashboardRow},
	{num: 5, short: "self-overhead", run: overheadRow},
	{num: 6, short: "MCP end to end", run: mcpRow},
	{num: 7, short: "tracing", run: tracingRow},
	{num: 8, short: "bridges", run: bridgesRow},
}

// A result is what one row gave.
type result struct {
	row     row
	lines   []line
	err     error
	elapsed time.Duration
}

// runRows runs the rows one after another, so that none competes with
// another for the machine, and keeps going after a failure.
func runRows(ctx context.Context, e *env, rs []row) []result {
	var out []result
	for _, r := range rs {
		res := result{row: r}
		if r.pending == "" {
			fmt.Fprintf(e.log, "row %d (%s)\n", r.num, r.short)
			start := time.Now()
			res.lines, res.err = r.run(ctx, e)
			res.elapsed = time.Since(start)
			if res.err != nil {
				res.err = fmt.Errorf("row %d (%s): %w", r.num, r.short, res.err)
				fmt.Fprintf(e.log, "%v\n", res.err)
			} else {
				fmt.Fprintf(e.log, "row %d done in %v\n", r.num, res.elapsed.Round(100*time.Millisecond))
			}
		}
		out = append(out, res)
	}
	return out
}
