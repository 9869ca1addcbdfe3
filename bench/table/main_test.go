package main

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestQuickTable runs the whole table in quick mode, as "go run
// ./bench/table -quick" does, so that a benchmark that stops building or
// running, or whose output a row no longer finds its figures in, fails the
// tests. It checks that every figure is a number, not what it is.
func TestQuickTable(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every benchmark of the module once, which takes about a minute")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	var log bytes.Buffer
	e, err := newEnv(ctx, true, 0, &log)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(e.tmp)
	rep := tabulate(ctx, e, rows, true)
	rep.invocation = "go run ./bench/table -quick"
	var out bytes.Buffer
	rep.write(&out)
	defer func() {
		if t.Failed() {
			t.Logf("the table:\n%s\nwhat it ran:\n%s", out.String(), log.String())
		}
	}()
	t.Logf("quick table in %v", rep.elapsed.Round(time.Second))

	for _, res := range rep.results {
		switch {
		case res.row.pending != "" && res.row.run != nil:
			t.Errorf("row %d is pending (%s) but has a run func", res.row.num, res.row.pending)
		case res.row.pending == "" && res.row.run == nil:
			t.Errorf("row %d has neither a run func nor a reason", res.row.num)
		case res.err != nil:
			t.Error(res.err)
		case res.row.pending == "" && len(res.lines) == 0:
			t.Errorf("row %d measured nothing", res.row.num)
		}
	}
	checkPrintedFigures(t, out.String())

	if rep.othersErr != nil {
		t.Error(rep.othersErr)
	}
	for _, o := range rep.others {
		if o.err != nil {
			t.Errorf("benchmarks of %s in no row: %v", o.dir, o.err)
		}
	}
	all, err := benchmarks(e.root)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for dir, names := range all {
		for _, n := range names {
			found++
			if !e.ran[dir][n] {
				t.Errorf("%s %s never printed a result", dir, n)
			}
		}
	}
	if found < 10 {
		t.Errorf("found %d benchmarks in the module, want the ten or more it has", found)
	}
}

// checkPrintedFigures reads the Markdown table back: in every line of a
// measured row the figure, the anchor's figure when there is an anchor,
// and the ratio must be numbers.
func checkPrintedFigures(t *testing.T, table string) {
	t.Helper()
	measured := map[string]bool{}
	for _, r := range rows {
		measured[strconv.Itoa(r.num)] = false
	}
	for text := range strings.Lines(table) {
		c := splitCells(strings.TrimSpace(text))
		if len(c) != 6 || c[0] == "row" || strings.HasPrefix(c[0], "---") {
			continue
		}
		num, _, _ := strings.Cut(c[0], " ")
		if strings.HasPrefix(c[2], "not measured: ") || strings.HasPrefix(c[2], "failed") {
			continue // reported by the result checks
		}
		if !leadingNumber(c[2]) {
			t.Errorf("row %s, %s: figure %q is not a number", num, c[1], c[2])
		}
		if c[3] != "" {
			i := strings.LastIndex(c[3], ": ")
			if i < 0 || !leadingNumber(c[3][i+2:]) {
				t.Errorf("row %s, %s: anchor %q has no number", num, c[1], c[3])
			}
			if _, err := strconv.ParseFloat(strings.TrimSuffix(c[4], "×"), 64); err != nil {
				t.Errorf("row %s, %s: ratio %q: %v", num, c[1], c[4], err)
			}
		}
		measured[num] = true
	}
	for _, r := range rows {
		if r.pending == "" && !measured[strconv.Itoa(r.num)] {
			t.Errorf("row %d has no line with a figure in the table", r.num)
		}
	}
}

// splitCells splits a Markdown table line at its unescaped pipes.
func splitCells(line string) []string {
	if !strings.HasPrefix(line, "| ") || !strings.HasSuffix(line, " |") {
		return nil
	}
	line = strings.ReplaceAll(line[2:len(line)-2], `\|`, "\x00")
	cells := strings.Split(line, " | ")
	for i, c := range cells {
		cells[i] = strings.TrimSpace(strings.ReplaceAll(c, "\x00", "|"))
	}
	return cells
}

func leadingNumber(s string) bool {
	f := strings.Fields(s)
	if len(f) == 0 {
		return false
	}
	_, err := strconv.ParseFloat(f[0], 64)
	return err == nil
}
