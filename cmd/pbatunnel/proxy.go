package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"runtime"

	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
)

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
	s, pf, err := parseProxyArgs(args, stderr)
	if err != nil {
		return 0, err
	}
	logger := newLogger(stderr, s.LogFormat, s.LogLevel)
	if err := os.MkdirAll(s.DataDir, 0o700); err != nil {
		return 0, fmt.Errorf("creating data dir: %w", err)
	}
	a, err := newProxyApp(s, logger)
	if err != nil {
		return 0, err
	}
	obs, err := proxyObservers(a, s, pf, logger)
	if err != nil {
		return 0, err
	}
	// The tunnel registers its gauge and rules before the config file's
	// rules go in, so that those may refer to them or replace them.
	mode, err := pf.newMode(a.Monitor, s, proxyIO{stdin, stdout, stderr}, obs, logger)
	if err != nil {
		return 0, err
	}
	if err := addTunnelRules(a); err != nil {
		return 0, err
	}
	if err := a.Configure(); err != nil {
		return 0, err
	}

	// Monitoring (sampling, dashboard, exporters) lives until the proxied
	// server is done.
	monCtx, stopMonitoring := context.WithCancel(ctx)
	defer stopMonitoring()
	dashURL, err := startProxyDashboard(monCtx, a, s, mode.Info, logger)
	if err != nil {
		return 0, err
	}
	logger.LogAttrs(ctx, slog.LevelInfo, "starting proxy",
		slog.String("version", version()),
		slog.String("go", runtime.Version()),
		slog.String("dashboard", dashURL),
		slog.Duration("interval", s.Interval),
		slog.String("upstream", upstreamName(mode.Info())),
		slog.Bool("restart", pf.restart),
	)
	defer func() {
		stopMonitoring()
		a.Stop()
		logRecording(logger, obs.Recorder, pf.record)
	}()
	// The proxy's stderr ends up in the MCP client's log: a line per sample
	// there is noise unless asked for.
	return mode.run(ctx, func() error { return a.Start(monCtx, slog.LevelDebug) })
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
