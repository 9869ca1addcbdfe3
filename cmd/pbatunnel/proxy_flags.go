package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/dashboard"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/config"
	"github.com/mcp-pba-tunnel/pbatunnel/record"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
)

// DefaultListen is where "proxy --upstream" serves the MCP endpoint: the
// port after the dashboard's.
const DefaultListen = "127.0.0.1:8081"

// serveOnly are the settings of serve's own MCP server, which a proxy does
// not run: every other setting works for proxy as for serve. The proxy's
// own --max-sessions and --session-timeout bound the sessions of a stdio
// server it serves over HTTP; behind --upstream, the sessions are the
// upstream's business.
var serveOnly = map[string]bool{"stdio": true, "allow-root": true, "session-timeout": true, "max-sessions": true}

// proxyFlags are proxy's own flags, beside the settings serve has too.
type proxyFlags struct {
	upstream    string
	listen      string
	listenSet   bool // --listen given: with a command, the stdio server is served over HTTP
	maxSessions int
	idle        time.Duration
	stdio       bool // with --upstream: serve it on this process's stdio
	onDrift     string
	restart     bool
	maxRestarts int
	maxLineSize int
	header      upstreamHeaderFlag
	record      string
	recordMax   int64
	pin         string
	command     []string // after --: the stdio server to run
}

func newProxyFlags(out io.Writer) (*flag.FlagSet, *config.Settings, *proxyFlags) {
	s := config.Defaults()
	pf := &proxyFlags{listen: DefaultListen, maxRestarts: tunnel.DefaultMaxRestarts, maxLineSize: tunnel.DefaultMaxLineSize, recordMax: record.DefaultMaxBytes,
		header: upstreamHeaderFlag{lookupEnv: os.LookupEnv}, maxSessions: tunnel.DefaultMaxBridgeSessions, idle: tunnel.DefaultBridgeIdleTimeout}
	fs := flag.NewFlagSet("pbatunnel proxy", flag.ContinueOnError)
	fs.SetOutput(out)
	all := flag.NewFlagSet("", flag.ContinueOnError)
	s.RegisterFlags(all)
	all.VisitAll(func(f *flag.Flag) {
		if !serveOnly[f.Name] {
			fs.Var(f.Value, f.Name, f.Usage)
		}
	})
	fs.StringVar(&pf.upstream, "upstream", "", "`URL` of an MCP server's Streamable HTTP endpoint to proxy, instead of a command")
	fs.Func("listen", "`host:port` the HTTP proxy listens on (default "+DefaultListen+"); with a COMMAND, serve it over Streamable HTTP there", func(v string) error {
		if err := config.CheckAddr(v); err != nil {
			return err
		}
		pf.listen, pf.listenSet = v, true
		return nil
	})
	fs.BoolVar(&pf.stdio, "stdio", false, "with --upstream, serve the HTTP server to an MCP client on this process's stdin and stdout")
	fs.IntVar(&pf.maxSessions, "max-sessions", pf.maxSessions, "with a COMMAND and --listen, the most sessions open at once, each with a process of its own")
	fs.DurationVar(&pf.idle, "session-timeout", pf.idle, "with a COMMAND and --listen, end a session (and its process) idle this `long`")
	fs.Var(&pf.header, "header", "with --upstream, set this HTTP header on every request to the upstream, replacing the client's, as `'Name: value'`; "+
		"${VAR} in the value is the environment variable VAR; repeatable (one a line in the variable)")
	fs.BoolVar(&pf.restart, "restart", false, "restart the MCP server when it exits by itself, replaying the client's initialization")
	fs.IntVar(&pf.maxRestarts, "max-restarts", pf.maxRestarts, "with --restart, give up after this many restarts in a row")
	fs.StringVar(&pf.record, "record", "", "append every message relayed, both ways, to this JSON lines `file`, with its time, direction and session; "+
		"values of the --redact-key keys are redacted")
	fs.Int64Var(&pf.recordMax, "record-max-bytes", pf.recordMax, "with --record, move the file to FILE.1 (replacing it) and start anew before it passes this many `bytes`")
	fs.Func("on-drift", "what a call to a tool that differs from its pin gets: alert (relayed; the alert tool_catalog_changed fires) or block "+
		"(answered with an error until a person accepts the change: pbatunnel pin accept) (default alert)", func(v string) error {
		if v != "alert" && v != "block" {
			return fmt.Errorf("want alert or block, got %q", v)
		}
		pf.onDrift = v
		return nil
	})
	fs.StringVar(&pf.pin, "pin", "", "compare the server's tools with those pinned in this JSON `file`; when it does not exist, the first tools/list is pinned there")
	fs.IntVar(&pf.maxLineSize, "max-line-size", pf.maxLineSize,
		"largest line (stdio) or request body and event (HTTP) held in memory, in `bytes`; longer lines are relayed in pieces and read as they pass, longer bodies refused")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprint(w, `Usage: pbatunnel proxy [flags] -- COMMAND [ARGS...]
       pbatunnel proxy [flags] --listen ADDR -- COMMAND [ARGS...]
       pbatunnel proxy [flags] --upstream URL
       pbatunnel proxy [flags] --stdio --upstream URL

Monitor an MCP server you already run: put pbatunnel in front of it and
every request is timed per method and per tool, with alerts and the
dashboard as "serve" has them (--addr).

With a COMMAND, an MCP client starts pbatunnel instead of the server;
pbatunnel runs COMMAND and relays its stdio byte for byte. SIGINT and
SIGTERM are forwarded to it, and pbatunnel exits with its exit status.
Logs go to stderr; stdout carries the protocol only.

With --listen and a COMMAND, pbatunnel serves COMMAND, a stdio server, to
clients of Streamable HTTP at http://ADDR/mcp: each session gets a process
of its own, so that each client's initialize, capabilities and requests
from the server stay its own (--max-sessions, --session-timeout).

With --upstream, pbatunnel serves the Streamable HTTP endpoint on --listen
at the same path as in URL, and forwards to URL. With --stdio too, it
serves URL to an MCP client that starts pbatunnel and speaks stdio, and
exits when the client closes its input. With --auth-token, the
client's Authorization is the proxy's and goes no further: give the
upstream's own credentials with --header, such as
--header 'Authorization: Bearer ${UPSTREAM_TOKEN}'.

A dashboard port already in use is reported and the proxy runs on
without it. See README, "Monitor any MCP server".

Flags (each also read from PBATUNNEL_<FLAG>, such as PBATUNNEL_RESTART;
precedence: flag > environment > config file > default):
`)
		fs.PrintDefaults()
	}
	return fs, &s, pf
}

// parseProxyArgs parses the proxy's command line, then the environment and
// the config file, and checks that the flags go together.
func parseProxyArgs(args []string, stderr io.Writer) (*config.Settings, *proxyFlags, error) {
	fs, s, pf := newProxyFlags(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, err
		}
		return nil, nil, &usageError{err: err, reported: true}
	}
	// The environment first: PBATUNNEL_UPSTREAM names the upstream as
	// --upstream does.
	if err := s.Resolve(fs, os.LookupEnv); err != nil {
		return nil, nil, &usageError{err: err}
	}
	pf.command = fs.Args()
	if err := pf.check(s); err != nil {
		return nil, nil, &usageError{err: err}
	}
	return s, pf, nil
}

// check reports flags that are out of range or do not go together, and a
// proxy that would listen beyond loopback without a token.
func (pf *proxyFlags) check(s *config.Settings) error {
	switch {
	case len(pf.command) == 0 && pf.upstream == "":
		return errors.New("want a command to run (after --) or --upstream URL")
	case len(pf.command) > 0 && pf.upstream != "":
		return fmt.Errorf("want a command or --upstream, not both (got %q and %q)", pf.command[0], pf.upstream)
	case pf.maxRestarts < 1:
		return fmt.Errorf("--max-restarts must be at least 1, got %d", pf.maxRestarts)
	case pf.maxLineSize < 1024:
		return fmt.Errorf("--max-line-size must be at least 1024 bytes, got %d", pf.maxLineSize)
	case pf.recordMax < 1024:
		return fmt.Errorf("--record-max-bytes must be at least 1024 bytes, got %d", pf.recordMax)
	case pf.maxSessions < 1:
		return fmt.Errorf("--max-sessions must be at least 1, got %d", pf.maxSessions)
	case pf.idle < time.Second:
		return fmt.Errorf("--session-timeout must be at least 1s, got %v", pf.idle)
	case pf.stdio && pf.upstream == "":
		return errors.New("--stdio goes with --upstream URL: it serves that server on stdio")
	case pf.stdio && pf.listenSet:
		return errors.New("--stdio and --listen: the client is on stdio, there is nothing to listen for")
	case pf.upstream == "" && len(pf.header.h) > 0:
		return errors.New("--header goes with --upstream: a command's server is reached over stdio")
	case ((pf.upstream != "" && !pf.stdio) || pf.bridged()) && !dashboard.IsLoopback(pf.listen) && s.AuthToken == "":
		return fmt.Errorf("proxy on %s: %w (--auth-token or PBATUNNEL_AUTH_TOKEN)", pf.listen, dashboard.ErrAuthRequired)
	}
	return nil
}

// bridged is a command's stdio server served over Streamable HTTP
// (--listen with a command).
func (pf *proxyFlags) bridged() bool { return len(pf.command) > 0 && pf.listenSet }

// server is the command to run, after --.
func (pf *proxyFlags) server() tunnel.Command {
	return tunnel.Command{Path: pf.command[0], Args: pf.command[1:]}
}
