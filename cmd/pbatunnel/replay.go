package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/dashboard"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/config"

	"github.com/mcp-pba-tunnel/pbatunnel/replay"
)

// replayFlags are replay's flags.
type replayFlags struct {
	against bool
	timeout time.Duration
	listen  string
	header  upstreamHeaderFlag
}

func newReplayFlags(out io.Writer) (*flag.FlagSet, *replayFlags) {
	rf := &replayFlags{timeout: replay.DefaultTimeout, header: upstreamHeaderFlag{lookupEnv: os.LookupEnv}}
	fs := flag.NewFlagSet("pbatunnel replay", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.BoolVar(&rf.against, "against", false, "re-send the recorded requests to the server COMMAND runs and print where its answers differ (exit 1 when they do)")
	fs.DurationVar(&rf.timeout, "timeout", rf.timeout, "with --against, how long to wait for each answer")
	fs.Var(&rf.header, "header", "with --against URL, set this HTTP header on every request, as `'Name: value'`; ${VAR} in the value is the environment variable VAR; repeatable")
	fs.Func("listen", "serve over Streamable HTTP at http://`host:port`/mcp (loopback only) instead of stdio", func(v string) error {
		if err := config.CheckAddr(v); err != nil {
			return err
		}
		if !dashboard.IsLoopback(v) {
			return fmt.Errorf("%s is not a loopback address: a replay has no token to guard it", v)
		}
		rf.listen = v
		return nil
	})
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: pbatunnel replay [--listen ADDR] FILE
       pbatunnel replay --against FILE -- COMMAND [ARGS...]
       pbatunnel replay --against [--header 'Name: value'] FILE URL

Serve a recording made with "pbatunnel proxy --record FILE" as an MCP server
on standard input and output, with no server behind it: each request is
answered as the real server answered the same method and parameters
(_meta aside; a value the recording redacted matches any), under the
client's own id (or, with --listen, over Streamable HTTP at
http://ADDR/mcp). A request asked again gets the next recorded answer to it,
the last one once they are used up. A method the recording never saw is
answered with -32601; a known method with parameters it has no answer for,
with -32001 and the closest recorded request.

With --against, check a server against the recording instead: run COMMAND
as a stdio MCP server (or reach the Streamable HTTP endpoint URL, in one
session), send it the recorded requests in order, and print
each answer that differs from the recorded one (compared as JSON). Exit
status 1 when one differs or goes unanswered: a regression check for a
server, for CI.

Flags:
`)
		fs.PrintDefaults()
	}
	return fs, rf
}

func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, rf := newReplayFlags(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err: err, reported: true}
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return &usageError{err: errors.New("want a recording file")}
	}
	file, command := rest[0], rest[1:]
	switch {
	case !rf.against && len(command) > 0:
		return &usageError{err: fmt.Errorf("unexpected argument %q (a command goes with --against)", command[0])}
	case rf.against && len(command) == 1 && isHTTPURL(command[0]):
	case rf.against && (len(command) < 2 || command[0] != "--"):
		return &usageError{err: errors.New("--against wants the server's command after -- (replay --against FILE -- COMMAND [ARGS...]) or its URL (replay --against FILE URL)")}
	}
	rec, err := replay.Load(file)
	if err != nil {
		return err
	}
	switch {
	case rf.against && rf.listen != "":
		return &usageError{err: errors.New("--listen and --against do not go together")}
	case rf.listen != "":
		return serveReplayHTTP(ctx, replay.NewServer(rec), rf.listen, file, stderr)
	case !rf.against:
		return replay.NewServer(rec).ServeStdio(ctx, os.Stdin, stdout)
	}
	var diffs []replay.Difference
	if len(command) == 1 {
		diffs, err = replay.AgainstURL(ctx, rec, command[0], rf.header.h, rf.timeout)
	} else {
		cmd := exec.CommandContext(ctx, command[1], command[2:]...)
		cmd.Stderr = stderr
		diffs, err = replay.Against(ctx, rec, cmd, rf.timeout)
	}
	replay.WriteDiff(stdout, diffs)
	if err != nil {
		return err
	}
	differ, skipped := 0, 0
	for _, d := range diffs {
		if d.Skipped != "" {
			skipped++
		} else {
			differ++
		}
	}
	checked := len(rec.Exchanges) - skipped
	note := ""
	if skipped > 0 {
		note = fmt.Sprintf(" (%d not sent: their parameters hold redacted values)", skipped)
	}
	if differ > 0 {
		return fmt.Errorf("%d of %d recorded answers differ%s", differ, checked, note)
	}
	fmt.Fprintf(stderr, "all %d recorded answers are the same%s\n", checked, note)
	return nil
}

// serveReplayHTTP serves the recording over HTTP until a signal.
func serveReplayHTTP(ctx context.Context, srv *replay.Server, listen, file string, stderr io.Writer) error {
	h, err := srv.HTTPHandler()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", listen, err)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stderr, "replaying %s over Streamable HTTP at http://%s/mcp\n", file, ln.Addr())
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
