// Command table reruns every benchmark behind docs/BENCHMARKS.md and prints
// the figures as one Markdown table, each beside its anchor (what it is
// compared with, measured in the same run), their ratio and the exact
// command that produced it, under a line naming the machine:
//
//	go run ./bench/table                 # the whole table, as the document's runs
//	go run ./bench/table -rows 1,3       # some rows
//	go run ./bench/table -quick          # every benchmark once, briefly
//
// -quick proves that every benchmark still builds and runs, in a minute or
// so; its figures mean nothing. It also runs once each benchmark of the
// module that no row uses, found in the source, so that none rots unseen;
// the package's test runs it that way.
//
// A row that fails is reported with its error after the others have run,
// and the exit status is then 1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run is the program: 0 when every row measured, 1 when one failed, 2 for
// a mistake in the flags.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("table", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "run every benchmark once, briefly, to show that it works (figures mean nothing), and the benchmarks no row uses")
	rowList := fs.String("rows", "", "comma-separated `numbers` of the rows to run (default all)")
	count := fs.Int("count", 0, "runs of each measurement (default: each row's own, or 1 with -quick)")
	serve := fs.String("serve", "", "serve the responses in `file` and print where (the dashboard row's anchor server)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "table: unexpected %q; see -h\n", strings.Join(fs.Args(), " "))
		return 2
	}
	if *count < 0 {
		fmt.Fprintf(stderr, "table: -count must not be negative, got %d\n", *count)
		return 2
	}
	if *serve != "" {
		if err := serveStatic(ctx, *serve, stdout); err != nil {
			fmt.Fprintln(stderr, "table:", err)
			return 1
		}
		return 0
	}
	selected, err := selectRows(*rowList)
	if err != nil {
		fmt.Fprintln(stderr, "table: -rows:", err)
		return 2
	}
	e, err := newEnv(ctx, *quick, *count, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "table:", err)
		return 1
	}
	defer os.RemoveAll(e.tmp)
	rep := tabulate(ctx, e, selected, *rowList == "")
	rep.invocation = shellJoin("go", append([]string{"run", "./bench/table"}, args...)...)
	rep.write(stdout)
	if rep.failed() {
		return 1
	}
	return 0
}

// selectRows picks rows by number; "" is all of them.
func selectRows(list string) ([]row, error) {
	if list == "" {
		return rows, nil
	}
	var out []row
	for f := range strings.SplitSeq(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("%q is not a row number", f)
		}
		i := slices.IndexFunc(rows, func(r row) bool { return r.num == n })
		if i < 0 {
			return nil, fmt.Errorf("no row %d", n)
		}
		out = append(out, rows[i])
	}
	return out, nil
}

// newEnv finds the module from the working directory, so that the program
// and its test run from anywhere inside it.
func newEnv(ctx context.Context, quick bool, count int, log io.Writer) (*env, error) {
	e := &env{quick: quick, count: count, log: log, built: map[string]string{}, ran: map[string]map[string]bool{}}
	out, err := e.output(ctx, "go", "env", "GOMOD")
	if err != nil {
		return nil, fmt.Errorf("finding the module: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return nil, errors.New("not inside a Go module: run it from the pbatunnel checkout")
	}
	e.root = filepath.Dir(gomod)
	data, err := os.ReadFile(gomod)
	if err != nil {
		return nil, fmt.Errorf("reading the module: %w", err)
	}
	for l := range strings.Lines(string(data)) {
		if p, ok := strings.CutPrefix(strings.TrimSpace(l), "module "); ok {
			e.module = strings.Trim(strings.TrimSpace(p), `"`)
			break
		}
	}
	if e.module == "" {
		return nil, fmt.Errorf("%s names no module", gomod)
	}
	if e.tmp, err = os.MkdirTemp("", "pbatunnel-table-"); err != nil {
		return nil, err
	}
	tmpdir := filepath.Join(e.tmp, "tmp")
	if err := os.Mkdir(tmpdir, 0o700); err != nil {
		os.RemoveAll(e.tmp)
		return nil, err
	}
	e.environ = append(os.Environ(), "TMPDIR="+tmpdir)
	return e, nil
}

// tabulate runs the rows, and in quick mode with every row the benchmarks
// no row ran, and gathers what the table shows.
func tabulate(ctx context.Context, e *env, rs []row, allRows bool) report {
	rep := report{quick: e.quick, machine: describeMachine(ctx, e), loadStart: loadAverage()}
	start := time.Now()
	rep.results = runRows(ctx, e, rs)
	if allRows {
		if e.quick {
			rep.others, rep.othersErr = runOthers(ctx, e)
		} else {
			rep.notInTable, rep.othersErr = notInTable(e)
		}
	}
	rep.elapsed = time.Since(start)
	rep.loadEnd = loadAverage()
	return rep
}
