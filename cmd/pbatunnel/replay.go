package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mcp-pba-tunnel/pbatunnel/replay"
)

func newReplayFlags(out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("pbatunnel replay", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: pbatunnel replay FILE

Serve a recording made with "pbatunnel proxy --record FILE" as an MCP server
on standard input and output, with no server behind it: each request is
answered as the real server answered the same method and parameters
(_meta aside; a value the recording redacted matches any), under the
client's own id. A request asked again gets the next recorded answer to it,
the last one once they are used up. A method the recording never saw is
answered with -32601; a known method with parameters it has no answer for,
with -32001 and the closest recorded request.

Let an MCP client start it in place of the server, as for "proxy".
`)
	}
	return fs
}

func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newReplayFlags(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err: err, reported: true}
	}
	if fs.NArg() != 1 {
		return &usageError{err: fmt.Errorf("want one recording file, got %d arguments", fs.NArg())}
	}
	rec, err := replay.Load(fs.Arg(0))
	if err != nil {
		return err
	}
	return replay.NewServer(rec).ServeStdio(ctx, os.Stdin, stdout)
}
