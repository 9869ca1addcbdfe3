package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// A report is everything the program prints.
type report struct {
	invocation         string
	machine            machine
	loadStart, loadEnd string
	quick              bool
	elapsed            time.Duration
	results            []result
	others             []othersResult // quick mode: benchmarks in no row, run once
	notInTable         []string       // full mode: the same, named only
	othersErr          error
}

func (r report) failed() bool {
	if r.othersErr != nil {
		return true
	}
	for _, res := range r.results {
		if res.err != nil {
			return true
		}
	}
	for _, o := range r.others {
		if o.err != nil {
			return true
		}
	}
	return false
}

// write prints the report as Markdown, ready to paste.
func (r report) write(w io.Writer) {
	fmt.Fprintf(w, "Measured with `%s` in %v.\n\n", r.invocation, r.elapsed.Round(time.Second))
	fmt.Fprintf(w, "Machine: %s; load average %s at the start, %s at the end.\n\n", r.machine, r.loadStart, r.loadEnd)
	if r.quick {
		fmt.Fprint(w, "Quick run: every benchmark once and briefly, to show that it runs. **These figures mean nothing.**\n\n")
	} else {
		fmt.Fprint(w, "A figure is the median of its runs, with their range. The ratio is figure ÷ anchor. An empty command is the one above.\n\n")
	}
	fmt.Fprintln(w, "| row | what | figure | anchor | ratio | command |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, res := range r.results {
		label := fmt.Sprintf("%d %s", res.row.num, res.row.short)
		switch {
		case res.row.pending != "":
			cells(w, label, "", "not measured: "+res.row.pending, "", "", "")
		case res.err != nil:
			cells(w, label, "", "failed: see below", "", "", "")
		}
		prev := ""
		for _, l := range res.lines {
			anchor, ratio := "", ""
			if l.anchor != "" {
				anchor = l.anchor + ": " + l.anchorM.String()
			}
			if v, ok := l.ratio(); ok {
				ratio = num(v) + "×"
			}
			cmd := ""
			if src := l.source(); src != prev {
				cmd, prev = src, src
			}
			cells(w, label, l.what, l.figure.String(), anchor, ratio, cmd)
		}
	}
	for _, res := range r.results {
		if res.err != nil {
			fmt.Fprintf(w, "\nRow %d (%s) failed:\n\n%s\n", res.row.num, res.row.short, indent(res.err.Error()))
		}
	}
	if len(r.others) > 0 {
		fmt.Fprint(w, "\nBenchmarks in no row, run once each:\n\n")
		for _, o := range r.others {
			status := "ran: `" + o.command + "`"
			if o.err != nil {
				status = "failed:\n\n" + indent(o.err.Error())
			}
			fmt.Fprintf(w, "- `%s`: %s — %s\n", o.dir, strings.Join(o.names, ", "), status)
		}
	}
	if len(r.notInTable) > 0 {
		fmt.Fprintf(w, "\nBenchmarks in no row (`-quick` runs them once): %s.\n", strings.Join(r.notInTable, ", "))
	}
	if r.othersErr != nil {
		fmt.Fprintf(w, "\nFinding the benchmarks in no row failed:\n\n%s\n", indent(r.othersErr.Error()))
	}
}

// cells prints one table line. A "|" in a cell, as in a -bench pattern,
// is escaped, which GitHub's tables honour inside code spans too.
func cells(w io.Writer, cs ...string) {
	for i, c := range cs {
		cs[i] = strings.ReplaceAll(c, "|", `\|`)
	}
	fmt.Fprintf(w, "| %s |\n", strings.Join(cs, " | "))
}

// indent makes text a Markdown code block.
func indent(text string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(text, "\n"), "\n", "\n    ")
}
