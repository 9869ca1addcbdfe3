package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/dashboard"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/app"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/config"
	"github.com/mcp-pba-tunnel/pbatunnel/record"
	"github.com/mcp-pba-tunnel/pbatunnel/sessions"
	"github.com/mcp-pba-tunnel/pbatunnel/telemetry"
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

// runProxy is the proxy command. Its exit status is the MCP server's.
func runProxy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	status, err := proxy(ctx, args, os.Stdin, stdout, stderr)
	if err == nil && status != 0 {
		return exitStatusError(status)
	}
	return err
}

// proxy runs the proxy command and returns the exit status it should end
// with: the MCP server's for stdio, 0 for HTTP.
func proxy(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	fs, s, pf := newProxyFlags(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, err
		}
		return 0, &usageError{err: err, reported: true}
	}
	// The environment first: PBATUNNEL_UPSTREAM names the upstream as
	// --upstream does.
	if err := s.Resolve(fs, os.LookupEnv); err != nil {
		return 0, &usageError{err: err}
	}
	command := fs.Args()
	switch {
	case len(command) == 0 && pf.upstream == "":
		return 0, &usageError{err: errors.New("want a command to run (after --) or --upstream URL")}
	case len(command) > 0 && pf.upstream != "":
		return 0, &usageError{err: fmt.Errorf("want a command or --upstream, not both (got %q and %q)", command[0], pf.upstream)}
	case pf.maxRestarts < 1:
		return 0, &usageError{err: fmt.Errorf("--max-restarts must be at least 1, got %d", pf.maxRestarts)}
	case pf.maxLineSize < 1024:
		return 0, &usageError{err: fmt.Errorf("--max-line-size must be at least 1024 bytes, got %d", pf.maxLineSize)}
	case pf.recordMax < 1024:
		return 0, &usageError{err: fmt.Errorf("--record-max-bytes must be at least 1024 bytes, got %d", pf.recordMax)}
	case pf.maxSessions < 1:
		return 0, &usageError{err: fmt.Errorf("--max-sessions must be at least 1, got %d", pf.maxSessions)}
	case pf.idle < time.Second:
		return 0, &usageError{err: fmt.Errorf("--session-timeout must be at least 1s, got %v", pf.idle)}
	}
	bridged := len(command) > 0 && pf.listenSet
	switch {
	case pf.stdio && pf.upstream == "":
		return 0, &usageError{err: errors.New("--stdio goes with --upstream URL: it serves that server on stdio")}
	case pf.stdio && pf.listenSet:
		return 0, &usageError{err: errors.New("--stdio and --listen: the client is on stdio, there is nothing to listen for")}
	}
	if pf.upstream == "" && len(pf.header.h) > 0 {
		return 0, &usageError{err: errors.New("--header goes with --upstream: a command's server is reached over stdio")}
	}
	if ((pf.upstream != "" && !pf.stdio) || bridged) && !dashboard.IsLoopback(pf.listen) && s.AuthToken == "" {
		return 0, &usageError{err: fmt.Errorf("proxy on %s: %w (--auth-token or PBATUNNEL_AUTH_TOKEN)", pf.listen, dashboard.ErrAuthRequired)}
	}
	logger := newLogger(stderr, s.LogFormat, s.LogLevel)
	if err := os.MkdirAll(s.DataDir, 0o700); err != nil {
		return 0, fmt.Errorf("creating data dir: %w", err)
	}

	a := app.New(s, logger)
	a.Version = version()
	// The proxy is a server to its client and a client to its upstream:
	// a session's duration counts on both sides.
	a.Kinds = []telemetry.Kind{telemetry.Server, telemetry.Client}
	if err := a.StartTelemetry(); err != nil {
		return 0, err
	}
	m := a.Monitor
	if pf.pin != "" {
		if err := usePin(a.Catalog, pf.pin, logger); err != nil {
			return 0, &usageError{err: fmt.Errorf("--pin: %w", err)}
		}
	}
	var rec *record.Recorder
	if pf.record != "" {
		var err error
		if rec, err = record.Open(record.Options{Path: pf.record, MaxBytes: pf.recordMax, RedactKeys: s.EffectiveRedactKeys()}); err != nil {
			return 0, &usageError{err: fmt.Errorf("--record: %w", err)}
		}
		a.Run(rec) // written until monitoring stops, then flushed and closed
	}
	obs := tunnel.Observers{Tokens: a.Tokens, Payloads: a.Payloads, Catalog: a.Catalog, Telemetry: a.Telemetry, Recorder: rec,
		Upstream:     upstreamHostPort(pf.upstream),
		OnSessionEnd: func(transport, id string) { a.Sessions.End(transport, id, sessions.EndClosed) }}
	if pf.onDrift == "block" {
		obs.Block = blockDrifted(a.Catalog)
	}
	// The tunnel registers its gauge and rule before the config file's
	// rules go in, so that those may refer to them or replace them.
	var (
		info   func() tunnel.Info
		stdio  *tunnel.Stdio
		web    *tunnel.HTTP
		bridge *tunnel.Bridge
		remote *tunnel.Remote
		err    error
	)
	stdioOpts := tunnel.StdioOptions{
		Stdin:       stdin,
		Stdout:      stdout,
		Stderr:      stderr,
		MaxLineSize: pf.maxLineSize,
		Restart:     pf.restart,
		MaxRestarts: pf.maxRestarts,
		Logger:      logger,
		Observers:   obs,
	}
	switch {
	case bridged:
		stdioOpts.Stdin, stdioOpts.Stdout = nil, nil // each session's own
		bridge, err = tunnel.NewBridge(m, tunnel.Command{Path: command[0], Args: command[1:]}, tunnel.BridgeOptions{
			Stdio: stdioOpts, MaxSessions: pf.maxSessions, IdleTimeout: pf.idle,
			// A message of the server's is held whole to be routed: a
			// larger --max-line-size raises the bound, a smaller one
			// does not lower it under the bridge's own.
			MaxBodySize: max(pf.maxLineSize, tunnel.DefaultBridgeMaxBody),
		})
		if err != nil {
			return 0, err
		}
		info = bridge.Info
	case pf.stdio:
		remote, err = tunnel.NewRemote(m, pf.upstream, tunnel.RemoteOptions{Stdin: stdin, Stdout: stdout,
			HTTP: tunnel.HTTPOptions{MaxBodySize: pf.maxLineSize, Header: pf.header.h, Logger: logger, Observers: obs}})
		if err != nil {
			return 0, &usageError{err: err}
		}
		info = remote.Info
	case pf.upstream != "":
		web, err = tunnel.NewHTTP(m, pf.upstream, tunnel.HTTPOptions{MaxBodySize: pf.maxLineSize, Header: pf.header.h, Logger: logger, Observers: obs})
		if err != nil {
			return 0, &usageError{err: err}
		}
		info = web.Info
	default:
		stdio, err = tunnel.NewStdio(m, tunnel.Command{Path: command[0], Args: command[1:]}, stdioOpts)
		if err != nil {
			return 0, err
		}
		info = stdio.Info
	}
	if len(pf.header.h) > 0 {
		logger.Info("setting headers on every request to the upstream", "names", pf.header.names())
	}
	if err := a.Alerts.AddRule(tunnel.UpstreamDownRule()); err != nil {
		return 0, err
	}
	if err := addCatalogRules(a); err != nil {
		return 0, err
	}
	if err := a.Configure(); err != nil {
		return 0, err
	}

	// Monitoring (sampling, dashboard, exporters) lives until the proxied
	// server is done.
	monCtx, stopMonitoring := context.WithCancel(ctx)
	defer stopMonitoring()
	dashURL, err := a.StartDashboard(monCtx, dashboard.Options{
		Config: func() any {
			pub := s.Public()
			pub["upstream"] = info()
			return pub
		},
		Ready: []dashboard.Check{{Name: "upstream", Run: func(context.Context) error { return info().Ready() }}},
	})
	switch {
	case errors.Is(err, dashboard.ErrAuthRequired):
		return 0, &usageError{err: err}
	case err != nil:
		// Several proxies, one per MCP server, commonly share a
		// configuration: the first gets the port, the others relay all
		// the same.
		logger.LogAttrs(ctx, slog.LevelWarn, "dashboard not available; proxying without it", slog.Any("error", err))
	}
	logger.LogAttrs(ctx, slog.LevelInfo, "starting proxy",
		slog.String("version", version()),
		slog.String("go", runtime.Version()),
		slog.String("dashboard", dashURL),
		slog.Duration("interval", s.Interval),
		slog.String("upstream", upstreamName(info())),
		slog.Bool("restart", pf.restart),
	)
	defer func() {
		stopMonitoring()
		a.Stop()
		if rec != nil {
			st := rec.Stats()
			level := slog.LevelInfo
			if st.Dropped > 0 || st.Failed > 0 {
				level = slog.LevelWarn // the recording has gaps
			}
			logger.LogAttrs(context.Background(), level, "recording closed", slog.String("file", pf.record),
				slog.Uint64("lines", st.Written), slog.Uint64("dropped", st.Dropped), slog.Uint64("failed", st.Failed),
				slog.Uint64("rotations", st.Rotations))
		}
	}()
	if stdio != nil {
		// Signals are forwarded from before the server starts until it is
		// done for good.
		defer forwardSignals(stdio, logger)()
		// Started before the monitor, so that the first sample sees it.
		if err := stdio.Start(ctx); err != nil {
			return 0, err
		}
	}
	// The proxy's stderr ends up in the MCP client's log: a line per sample
	// there is noise unless asked for.
	if err := a.Start(monCtx, slog.LevelDebug); err != nil {
		return 0, err
	}

	if web != nil {
		return 0, serveHTTPProxy(ctx, web, pf.listen, web.Info().URL, s, logger)
	}
	if remote != nil {
		ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		// Once a signal came, the next one ends the process as it would.
		context.AfterFunc(ctx, stop)
		err := remote.Run(ctx)
		logger.Info("proxy stopped", "reason", "the client closed its input")
		return 0, err
	}
	if bridge != nil {
		bridge.Start(ctx)
		defer bridge.Close() // every session's process ends before the proxy
		return 0, serveHTTPProxy(ctx, bridge, pf.listen, command[0], s, logger)
	}
	status := stdio.Wait()
	logger.Info("proxy stopped", "exit_status", status)
	return status, nil
}

// upstreamHostPort is the host:port of an upstream URL, the scheme's port
// when it names none; "" for a stdio upstream or a URL that does not
// parse (NewHTTP reports that one).
func upstreamHostPort(raw string) string {
	u, err := url.Parse(raw)
	if raw == "" || err != nil || u.Host == "" {
		return ""
	}
	if u.Port() != "" {
		return u.Host
	}
	port := "80"
	if u.Scheme == "https" {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

func upstreamName(i tunnel.Info) string {
	if i.URL != "" {
		return i.URL
	}
	return i.Command
}

// addCatalogRules registers the gauges read from the server's tools/list
// answers as they pass, and their rules: upstream_tools (none is a server
// an agent can do nothing with) and tool_catalog_drift (tools that
// changed under the agent).
func addCatalogRules(a *app.App) error {
	_ = a.Monitor.RegisterGauge(tunnel.GaugeUpstreamTools, func() (float64, error) {
		n, listed := a.Catalog.Count()
		if !listed {
			return 0, errors.New("no tools/list answer seen yet")
		}
		return float64(n), nil
	})
	if err := a.Alerts.AddRule(tunnel.UpstreamNoToolsRule()); err != nil {
		return err
	}
	_ = a.Monitor.RegisterGauge(tunnel.GaugeCatalogDrift, func() (float64, error) {
		_, n, pinned := a.Catalog.Drift()
		if pinned.IsZero() {
			return 0, errors.New("no whole tools/list answer seen yet")
		}
		return float64(n), nil
	})
	return a.Alerts.AddRule(tunnel.CatalogChangedRule())
}
