package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/config"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
)

// A proxyMode is one of the proxy's four ways between an MCP client and
// its server: a command's stdio relayed on the proxy's own (stdioMode), an
// HTTP server served over HTTP (httpMode) or on stdio (remoteMode), and a
// command's stdio served over HTTP (bridgeMode).
type proxyMode interface {
	// Info describes the server, for /api/config, /readyz and the start
	// line.
	Info() tunnel.Info
	// run proxies until the server, the client, a signal or ctx ends it,
	// and returns the status the proxy exits with. It calls
	// startMonitoring (sampling, notifiers, exporters) once, when the
	// first sample can see the server.
	run(ctx context.Context, startMonitoring func() error) (status int, err error)
}

// proxyIO are the proxy's own standard streams: the client's end of the
// stdio modes, and where a command's server writes its stderr.
type proxyIO struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// newMode builds the tunnel the flags ask for, recording into m. Each
// tunnel registers its gauge of the upstream.
func (pf *proxyFlags) newMode(m *monitor.Monitor, s *config.Settings, std proxyIO, obs tunnel.Observers, logger *slog.Logger) (proxyMode, error) {
	stdioOpts := tunnel.StdioOptions{
		Stdin:       std.stdin,
		Stdout:      std.stdout,
		Stderr:      std.stderr,
		MaxLineSize: pf.maxLineSize,
		Restart:     pf.restart,
		MaxRestarts: pf.maxRestarts,
		Logger:      logger,
		Observers:   obs,
	}
	httpOpts := tunnel.HTTPOptions{MaxBodySize: pf.maxLineSize, Header: pf.header.h, Logger: logger, Observers: obs}
	var mode proxyMode
	switch {
	case pf.bridged():
		stdioOpts.Stdin, stdioOpts.Stdout = nil, nil // each session's own
		b, err := tunnel.NewBridge(m, pf.server(), tunnel.BridgeOptions{
			Stdio: stdioOpts, MaxSessions: pf.maxSessions, IdleTimeout: pf.idle,
			// A message of the server's is held whole to be routed: a
			// larger --max-line-size raises the bound, a smaller one
			// does not lower it under the bridge's own.
			MaxBodySize: max(pf.maxLineSize, tunnel.DefaultBridgeMaxBody),
		})
		if err != nil {
			return nil, err
		}
		mode = bridgeMode{b: b, listen: pf.listen, command: pf.command[0], s: s, logger: logger}
	case pf.stdio:
		r, err := tunnel.NewRemote(m, pf.upstream, tunnel.RemoteOptions{Stdin: std.stdin, Stdout: std.stdout, HTTP: httpOpts})
		if err != nil {
			return nil, &usageError{err: err}
		}
		mode = remoteMode{r: r, logger: logger}
	case pf.upstream != "":
		h, err := tunnel.NewHTTP(m, pf.upstream, httpOpts)
		if err != nil {
			return nil, &usageError{err: err}
		}
		mode = httpMode{h: h, listen: pf.listen, s: s, logger: logger}
	default:
		p, err := tunnel.NewStdio(m, pf.server(), stdioOpts)
		if err != nil {
			return nil, err
		}
		mode = stdioMode{p: p, logger: logger}
	}
	if len(pf.header.h) > 0 {
		logger.Info("setting headers on every request to the upstream", "names", pf.header.names())
	}
	return mode, nil
}

// stdioMode runs a command and relays its stdio on the proxy's, forwarding
// signals to it; the proxy exits with its status.
type stdioMode struct {
	p      *tunnel.Stdio
	logger *slog.Logger
}

func (m stdioMode) Info() tunnel.Info { return m.p.Info() }

func (m stdioMode) run(ctx context.Context, startMonitoring func() error) (int, error) {
	// Signals are forwarded from before the server starts until it is done
	// for good.
	defer forwardSignals(m.p, m.logger)()
	// Started before the monitor, so that the first sample sees it.
	if err := m.p.Start(ctx); err != nil {
		return 0, err
	}
	if err := startMonitoring(); err != nil {
		return 0, err
	}
	status := m.p.Wait()
	m.logger.Info("proxy stopped", "exit_status", status)
	return status, nil
}

// httpMode serves an HTTP server's endpoint on --listen.
type httpMode struct {
	h      *tunnel.HTTP
	listen string
	s      *config.Settings
	logger *slog.Logger
}

func (m httpMode) Info() tunnel.Info { return m.h.Info() }

func (m httpMode) run(ctx context.Context, startMonitoring func() error) (int, error) {
	if err := startMonitoring(); err != nil {
		return 0, err
	}
	return 0, serveHTTPProxy(ctx, m.h, m.listen, m.h.Info().URL, m.s, m.logger)
}

// remoteMode serves an HTTP server to a client on the proxy's stdio, until
// the client closes its input or a signal comes.
type remoteMode struct {
	r      *tunnel.Remote
	logger *slog.Logger
}

func (m remoteMode) Info() tunnel.Info { return m.r.Info() }

func (m remoteMode) run(ctx context.Context, startMonitoring func() error) (int, error) {
	if err := startMonitoring(); err != nil {
		return 0, err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Once a signal came, the next one ends the process as it would.
	context.AfterFunc(ctx, stop)
	err := m.r.Run(ctx)
	m.logger.Info("proxy stopped", "reason", "the client closed its input")
	return 0, err
}

// bridgeMode serves a command's stdio over Streamable HTTP on --listen, a
// process for each session.
type bridgeMode struct {
	b       *tunnel.Bridge
	listen  string
	command string
	s       *config.Settings
	logger  *slog.Logger
}

func (m bridgeMode) Info() tunnel.Info { return m.b.Info() }

func (m bridgeMode) run(ctx context.Context, startMonitoring func() error) (int, error) {
	if err := startMonitoring(); err != nil {
		return 0, err
	}
	m.b.Start(ctx)
	defer m.b.Close() // every session's process ends before the proxy
	return 0, serveHTTPProxy(ctx, m.b, m.listen, m.command, m.s, m.logger)
}
