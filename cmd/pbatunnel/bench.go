package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/config"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/httpheader"
	"github.com/mcp-pba-tunnel/pbatunnel/loadgen"
)

// benchFlags are the settings of "pbatunnel bench".
type benchFlags struct {
	url, tool, args, workload string
	concurrency, entities     int
	duration                  time.Duration
	count, warmup             int64
	timeout                   time.Duration
	json                      bool
	header                    headerFlag
}

// headerFlag collects the repeatable --header 'Name: value'.
type headerFlag struct{ h http.Header }

func (f *headerFlag) String() string { return "" }

func (f *headerFlag) Set(s string) error {
	name, value, err := httpheader.ParseField(s)
	if err != nil {
		return err
	}
	if f.h == nil {
		f.h = http.Header{}
	}
	f.h.Add(name, value)
	return nil
}

func newBenchFlags(out io.Writer) (*flag.FlagSet, *benchFlags) {
	b := &benchFlags{concurrency: 1, duration: 10 * time.Second, timeout: loadgen.DefaultTimeout}
	fs := flag.NewFlagSet("pbatunnel bench", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&b.url, "url", "", "`URL` of an MCP server's Streamable HTTP endpoint, instead of a command")
	fs.StringVar(&b.tool, "tool", "", "`name` of the tool to call")
	fs.StringVar(&b.args, "args", "", "the tool's arguments, a `JSON` object; string values may hold {{n}}, {{worker}}, {{word}}, {{words:K}}")
	fs.StringVar(&b.workload, "workload", "", "built-in `workload` instead of --tool: "+strings.Join(loadgen.Builtins(), ", "))
	fs.IntVar(&b.entities, "entities", loadgen.DefaultGraphEntities, "`number` of entities the graph workload prepares before it is measured")
	fs.IntVar(&b.concurrency, "concurrency", b.concurrency, "`number` of calls in flight at once")
	fs.DurationVar(&b.duration, "duration", b.duration, "measure for this `duration` (unless --count)")
	fs.Int64Var(&b.count, "count", 0, "measure this `number` of calls instead of a duration")
	fs.Int64Var(&b.warmup, "warmup", 0, "`number` of calls to make first, not measured")
	fs.DurationVar(&b.timeout, "timeout", b.timeout, "give up on a call after this `duration`")
	fs.BoolVar(&b.json, "json", false, "print the summary as one JSON object")
	fs.Var(&b.header, "header", "send this HTTP header with every request to --url, as `'Name: value'`; repeatable")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: pbatunnel bench [flags] -- COMMAND [ARG...]
       pbatunnel bench [flags] --url URL

Load an MCP server with tool calls and print their throughput, latency
percentiles and errors. A command is started once and its stdio session is
shared by all workers; over HTTP each worker opens its own session.
Ctrl-C stops early and still prints the summary.

A server behind a token: PBATUNNEL_AUTH_TOKEN is sent as
"Authorization: Bearer <token>" unless --header gives Authorization.

Exit status: 0 when the run completed (tool errors are in the summary), 1
when the server cannot be reached or initialized, 2 for a usage mistake.

Flags:
`)
		fs.PrintDefaults()
	}
	return fs, b
}

// benchConfig turns the command line into the engine's options.
func benchConfig(args []string, stderr io.Writer) (*benchFlags, loadgen.Options, error) {
	fs, b := newBenchFlags(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, loadgen.Options{}, err
		}
		return nil, loadgen.Options{}, &usageError{err: err, reported: true}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	command := fs.Args()
	usage := func(format string, a ...any) (*benchFlags, loadgen.Options, error) {
		return nil, loadgen.Options{}, &usageError{err: fmt.Errorf(format, a...)}
	}
	switch {
	case len(command) == 0 && b.url == "":
		return usage("want a command to run (after --) or --url URL")
	case len(command) > 0 && b.url != "":
		return usage("want a command or --url, not both (got %q and %q)", command[0], b.url)
	case given["count"] && given["duration"]:
		return usage("--count and --duration are exclusive")
	case given["count"] && b.count < 1:
		return usage("--count must be at least 1, got %d", b.count)
	case !given["count"] && b.duration <= 0:
		return usage("--duration must be positive, got %v", b.duration)
	case b.concurrency < 1:
		return usage("--concurrency must be at least 1, got %d", b.concurrency)
	case b.warmup < 0:
		return usage("--warmup must not be negative, got %d", b.warmup)
	case b.timeout <= 0:
		return usage("--timeout must be positive, got %v", b.timeout)
	case b.tool == "" && b.workload == "":
		return usage("want --tool NAME (with --args) or --workload NAME")
	case b.tool != "" && b.workload != "":
		return usage("want --tool or --workload, not both")
	case given["args"] && b.tool == "":
		return usage("--args goes with --tool")
	case given["entities"] && b.workload != "graph":
		return usage("--entities goes with --workload graph")
	}
	o := loadgen.Options{Concurrency: b.concurrency, Warmup: b.warmup, Timeout: b.timeout}
	if given["count"] {
		o.Count = b.count
	} else {
		o.Duration = b.duration
	}
	var err error
	if b.workload == "graph" {
		if o.Workload, err = loadgen.GraphWorkload(b.entities); err != nil {
			return nil, o, &usageError{err: fmt.Errorf("--entities: %w", err)}
		}
	} else if b.workload != "" {
		if o.Workload, err = loadgen.Builtin(b.workload); err != nil {
			return nil, o, &usageError{err: fmt.Errorf("--workload: %w", err)}
		}
	} else if o.Workload, err = loadgen.NewToolWorkload(b.tool, b.args); err != nil {
		return nil, o, &usageError{err: fmt.Errorf("--args: %w", err)}
	}
	if b.url != "" {
		if u, err := url.Parse(b.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usage("--url: want an http or https URL, got %q", b.url)
		}
		o.Target = loadgen.URLTarget(b.url, benchClient(b.header.h))
	} else {
		if given["header"] {
			return usage("--header goes with --url: a command's server is reached over stdio")
		}
		o.Target = loadgen.CommandTarget(command, stderr)
	}
	return b, o, nil
}

// benchClient returns the HTTP client of a --url run: one that sends
// header, and the token of PBATUNNEL_AUTH_TOKEN as a bearer token unless
// header has Authorization; nil (the default client) when there is
// nothing to send.
func benchClient(header http.Header) *http.Client {
	header = header.Clone()
	if tok, ok := os.LookupEnv(config.EnvVar("auth-token")); ok && tok != "" && header.Get("Authorization") == "" {
		if header == nil {
			header = http.Header{}
		}
		header.Set("Authorization", "Bearer "+tok)
	}
	if len(header) == 0 {
		return nil
	}
	return loadgen.WithHeader(nil, header)
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	b, o, err := benchConfig(args, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()

	// A live line rewritten in place suits a person watching; a log or a CI
	// job gets a plain line now and then instead.
	live := isTerminal(stderr)
	o.ProgressEvery = 5 * time.Second
	if live {
		o.ProgressEvery = 250 * time.Millisecond
	}
	printed := false
	o.Progress = func(s loadgen.Snapshot) {
		line := fmt.Sprintf("%s  %d calls  %.1f calls/s  %d errors  p50 %s  p99 %s",
			s.Elapsed.Truncate(time.Second), s.Calls, s.Throughput(), s.Errors, fmtMS(s.P50), fmtMS(s.P99))
		if live {
			fmt.Fprintf(stderr, "\r\033[K%s", line)
		} else {
			fmt.Fprintln(stderr, line)
		}
		printed = true
	}
	sum, err := loadgen.Run(ctx, o)
	if live && printed {
		// Run has returned, so no progress line is written after this.
		fmt.Fprintln(stderr)
	}
	var ce *loadgen.ConnectError
	if errors.As(err, &ce) && b.url != "" && strings.Contains(err.Error(), http.StatusText(http.StatusUnauthorized)) {
		return fmt.Errorf("%w (a server behind a token: --header 'Authorization: Bearer TOKEN' or %s)", err, config.EnvVar("auth-token"))
	}
	if err != nil {
		return err
	}
	if b.json {
		err = json.NewEncoder(stdout).Encode(sum)
	} else {
		err = writeBenchSummary(stdout, sum)
	}
	if err == nil && sum.ConnectionLost != "" {
		// The figures are printed, but a run cut short by a dead server
		// is not a completed one.
		err = fmt.Errorf("the server's connection closed during the run: %s", sum.ConnectionLost)
	}
	return err
}

func fmtMS(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}

func writeBenchSummary(w io.Writer, s *loadgen.Summary) error {
	var b strings.Builder
	fmt.Fprintf(&b, "target:       %s\n", s.Target)
	fmt.Fprintf(&b, "workload:     %s\n", s.Workload)
	fmt.Fprintf(&b, "concurrency:  %d\n", s.Concurrency)
	fmt.Fprintf(&b, "duration:     %.2fs", s.DurationSec)
	if s.Interrupted {
		b.WriteString(" (interrupted)")
	}
	fmt.Fprintf(&b, "\ncalls:        %d\n", s.Calls)
	fmt.Fprintf(&b, "throughput:   %.1f calls/s\n", s.Throughput)
	l := s.LatencyMS
	fmt.Fprintf(&b, "latency:      p50 %.2fms  p90 %.2fms  p99 %.2fms  max %.2fms (%d answered calls)\n", l.P50, l.P90, l.P99, l.Max, s.Answered)
	fmt.Fprintf(&b, "errors:       %d\n", s.ErrorCount)
	for _, k := range slices.Sorted(maps.Keys(s.Errors)) {
		fmt.Fprintf(&b, "  %-12s %d\n", k, s.Errors[k])
	}
	if len(s.TopErrors) > 0 {
		b.WriteString("most common:\n")
		for _, e := range s.TopErrors {
			fmt.Fprintf(&b, "  %-12s %-6d %s\n", e.Kind, e.Count, e.Message)
		}
	}
	if s.ConnectionLost != "" {
		fmt.Fprintf(&b, "stopped:      the connection closed (%s)\n", s.ConnectionLost)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
