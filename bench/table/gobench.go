package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A benchRun is one "go test -bench" and the results it printed.
type benchRun struct {
	command string
	// results maps "dir BenchmarkName/sub" (without the -GOMAXPROCS
	// suffix) to each unit's values, one per -count run.
	results map[string]map[string][]float64
	// missing collects the figures a row asked for and the output did not
	// have, so that a row can read all its figures and check once.
	missing []string
}

// goBench runs the benchmarks matching pattern in the packages in dirs
// (relative to the module), with flags such as -benchtime, and parses
// what they print.
func (e *env) goBench(ctx context.Context, pattern string, flags []string, dirs ...string) (*benchRun, error) {
	args := append([]string{"test", "-run", "^$", "-bench", pattern}, flags...)
	for _, d := range dirs {
		args = append(args, "./"+d)
	}
	r := &benchRun{command: shellJoin("go", args...)}
	out, err := e.output(ctx, "go", args...)
	if err != nil {
		return nil, err
	}
	if r.results, err = parseBench(out, e.module); err != nil {
		return nil, fmt.Errorf("%s: %w", r.command, err)
	}
	for key := range r.results {
		dir, name, _ := strings.Cut(key, " ")
		top, _, _ := strings.Cut(name, "/")
		if e.ran[dir] == nil {
			e.ran[dir] = map[string]bool{}
		}
		e.ran[dir][top] = true
	}
	return r, nil
}

// benchFlags are the flags of a row's "go test -bench": -benchtime (""
// for the default) and -count as the row wants them in a full run; in
// quick mode every benchmark runs one iteration.
func (e *env) benchFlags(benchtime string, count int, extra ...string) []string {
	if e.quick {
		benchtime = "1x"
	}
	var f []string
	if benchtime != "" {
		f = append(f, "-benchtime", benchtime)
	}
	f = append(f, "-count", strconv.Itoa(e.runs(count)))
	return append(f, extra...)
}

// m returns the measure of unit for the benchmark name in package dir;
// when the output has none, it records that for check and returns a zero
// measure.
func (r *benchRun) m(dir, name, unit string) measure {
	ms, err := measureOf(r.results[dir+" "+name][unit], unit)
	if err != nil {
		r.missing = append(r.missing, fmt.Sprintf("%s %s %s: %v", dir, name, unit, err))
	}
	return ms
}

// check reports the figures m did not find.
func (r *benchRun) check() error {
	if len(r.missing) == 0 {
		return nil
	}
	return fmt.Errorf("%s: missing figures:\n\t%s", r.command, strings.Join(r.missing, "\n\t"))
}

// parseBench reads the standard benchmark format: "pkg: PATH" lines name
// the package of the lines that follow, and a result line is
//
//	BenchmarkName/sub-GOMAXPROCS  ITERATIONS  VALUE UNIT  VALUE UNIT …
//
// where units include custom ones from b.ReportMetric, such as
// "overhead-p50-µs" or "proxy/direct-%". Other lines are ignored.
func parseBench(out []byte, module string) (map[string]map[string][]float64, error) {
	res := map[string]map[string][]float64{}
	dir := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		text := sc.Text()
		if p, ok := strings.CutPrefix(text, "pkg: "); ok {
			dir = packageDir(strings.TrimSpace(p), module)
			continue
		}
		f := strings.Fields(text)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
			continue // a name printed before a failure or a log line
		}
		key := dir + " " + trimProcs(f[0])
		if res[key] == nil {
			res[key] = map[string][]float64{}
		}
		for i := 2; i < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("result line %q: value %q: %w", text, f[i], err)
			}
			res[key][f[i+1]] = append(res[key][f[i+1]], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the output: %w", err)
	}
	if len(res) == 0 {
		return nil, errors.New("no benchmark results in the output")
	}
	return res, nil
}

// packageDir turns an import path of the module into its directory
// relative to the module, "." for the module's own package.
func packageDir(path, module string) string {
	if path == module {
		return "."
	}
	if d, ok := strings.CutPrefix(path, module+"/"); ok {
		return d
	}
	return path
}

// trimProcs drops the "-N" that "go test" appends to a benchmark's name
// when GOMAXPROCS is not 1. No benchmark of this module ends its own name
// in a dash and digits, so the suffix is recognised by its shape.
func trimProcs(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 || i == len(name)-1 {
		return name
	}
	for _, c := range name[i+1:] {
		if c < '0' || c > '9' {
			return name
		}
	}
	return name[:i]
}
