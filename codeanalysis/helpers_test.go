package codeanalysis

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTree writes files (slash-separated name → contents) under a new
// temporary directory and returns it.
func writeTree(tb testing.TB, files map[string]string) string {
	tb.Helper()
	dir := tb.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// mustNew returns an Analyzer rooted at dir.
func mustNew(tb testing.TB, opts Options) *Analyzer {
	tb.Helper()
	a, err := New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// analyzeOne analyses a single file named name holding src.
func analyzeOne(tb testing.TB, name, src, typ string) *Result {
	tb.Helper()
	dir := writeTree(tb, map[string]string{name: src})
	res, err := mustNew(tb, Options{Roots: []string{dir}}).Analyze(context.Background(), Request{Path: name, Type: typ})
	if err != nil {
		tb.Fatalf("Analyze(%s, %s): %v", name, typ, err)
	}
	return res
}

// only returns the findings of one rule.
func only(res *Result, rule string) []Finding {
	var out []Finding
	for _, f := range res.Findings {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

// lines lists the lines of findings, for compact comparison.
func lines(fs []Finding) []int {
	out := []int{}
	for _, f := range fs {
		out = append(out, f.Line)
	}
	return out
}

// dump describes findings for failure messages.
func dump(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "\n  %s:%d:%d %s %s: %s | %s", f.File, f.Line, f.Column, f.Rule, f.Severity, f.Message, f.Snippet)
	}
	return b.String()
}

// src joins lines into a source file, so that tests can say which line is
// which.
func src(lines ...string) string {
	return strings.Join(lines, "\n") + "\n"
}
