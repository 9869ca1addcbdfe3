package main

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// benchmarks finds every benchmark function of the module, by package
// directory, from the source: a benchmark added later is found without
// anyone listing it.
func benchmarks(root string) (map[string][]string, error) {
	found := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			// What the go command ignores, and the npm cache.
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("parsing: %w", err)
		}
		dir, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		dir = filepath.ToSlash(dir)
		for _, decl := range f.Decls {
			if fn, ok := decl.(*ast.FuncDecl); ok && fn.Recv == nil && isBenchmark(fn.Name.Name) {
				found[dir] = append(found[dir], fn.Name.Name)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("finding benchmarks: %w", err)
	}
	for _, names := range found {
		slices.Sort(names)
	}
	return found, nil
}

// isBenchmark applies go test's rule: "Benchmark" followed by nothing or
// by a character that is not a lower-case letter.
func isBenchmark(name string) bool {
	rest, ok := strings.CutPrefix(name, "Benchmark")
	if !ok {
		return false
	}
	r, _ := utf8.DecodeRuneInString(rest)
	return rest == "" || !unicode.IsLower(r)
}

// An othersResult is one package's benchmarks that no row ran, run once.
type othersResult struct {
	dir     string
	names   []string
	command string
	err     error
}

// runOthers runs once each benchmark that no row ran, one "go test" per
// package, so that the quick run exercises every benchmark of the module.
func runOthers(ctx context.Context, e *env) ([]othersResult, error) {
	all, err := benchmarks(e.root)
	if err != nil {
		return nil, err
	}
	var out []othersResult
	for _, dir := range slices.Sorted(maps.Keys(all)) {
		var names []string
		for _, n := range all[dir] {
			if !e.ran[dir][n] {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			continue
		}
		res := othersResult{dir: dir, names: names}
		fmt.Fprintf(e.log, "benchmarks of %s in no row\n", dir)
		r, err := e.goBench(ctx, "^("+strings.Join(names, "|")+")$", []string{"-benchtime", "1x", "-count", "1"}, dir)
		if err == nil {
			res.command = r.command
			var silent []string
			for _, n := range names {
				if !e.ran[dir][n] {
					silent = append(silent, n)
				}
			}
			if len(silent) > 0 {
				err = fmt.Errorf("%s: no result from %s (skipped?)", r.command, strings.Join(silent, ", "))
			}
		}
		res.err = err
		out = append(out, res)
	}
	return out, nil
}

// notInTable lists the benchmarks no row ran, for the note under a full
// table.
func notInTable(e *env) ([]string, error) {
	all, err := benchmarks(e.root)
	if err != nil {
		return nil, err
	}
	var out []string
	for dir, names := range all {
		for _, n := range names {
			if !e.ran[dir][n] {
				out = append(out, dir+" "+n)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
