package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/mcp-pba-tunnel/pbatunnel/codeanalysis"
	"github.com/mcp-pba-tunnel/pbatunnel/dashboard"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/app"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/config"
)

// newServeFlags returns serve's flag set bound to a Settings holding the
// defaults.
func newServeFlags(out io.Writer) (*flag.FlagSet, *config.Settings) {
	s := config.Defaults()
	fs := flag.NewFlagSet("pbatunnel serve", flag.ContinueOnError)
	fs.SetOutput(out)
	s.RegisterFlags(fs)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprint(w, `Usage: pbatunnel serve [flags]

Sample the host and this process every --interval, log one line per
sample, and serve the dashboard, the JSON API (/api/...) and Prometheus
metrics (/metrics) on --addr, until interrupted (SIGINT or SIGTERM). Alert rules are evaluated on
every sample and their notifications sent as the config file's alerts
section says (by default: the built-in rules, to the log; see
docs/ALERTS.md).

Flags (each also read from PBATUNNEL_<FLAG>, such as PBATUNNEL_DATA_DIR;
precedence: flag > environment > config file > default):
`)
		fs.PrintDefaults()
	}
	return fs, &s
}

func runServe(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs, s := newServeFlags(stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := s.Resolve(fs, os.LookupEnv); err != nil {
		return &usageError{err: err}
	}
	return serve(ctx, s, newLogger(stderr, s.LogFormat, s.LogLevel))
}

// serve runs the monitor until ctx ends or a SIGINT or SIGTERM arrives.
func serve(ctx context.Context, s *config.Settings, logger *slog.Logger) error {
	// Refused before anything starts, with the usage status: the command
	// line asks for something unsafe, nothing failed.
	if !s.Stdio && !dashboard.IsLoopback(s.Addr) && s.AuthToken == "" {
		return &usageError{err: fmt.Errorf("dashboard on %s: %w (--auth-token or PBATUNNEL_AUTH_TOKEN)", s.Addr, dashboard.ErrAuthRequired)}
	}
	if err := os.MkdirAll(s.DataDir, 0o700); err != nil {
		return fmt.Errorf("creating data dir: %w", err)
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	a := app.New(s, logger)
	a.Version = version()
	if err := a.Configure(); err != nil {
		return err
	}
	if err := a.StartTelemetry(); err != nil {
		return err
	}
	mcpSide, err := newServeMCP(ctx, s, a)
	if err != nil {
		return err
	}
	defer mcpSide.close()

	// The dashboard listens before sampling starts, so that a port in use
	// is reported at once and nothing else has begun. Over stdio, MCP does
	// not need it: a busy port only costs the dashboard.
	dashURL, err := a.StartDashboard(ctx, mcpSide.dashboard(s))
	switch {
	case err != nil && !s.Stdio:
		return err
	case err != nil:
		logger.LogAttrs(ctx, slog.LevelWarn, "dashboard not available; MCP over stdio works without it", slog.Any("error", err))
	}
	logServeStart(ctx, logger, s, a, mcpSide.analyzer, dashURL)
	if err := a.Start(ctx, slog.LevelInfo); err != nil {
		return err
	}
	var stdioDone <-chan stdioEnd // nil, never ready, without --stdio
	if s.Stdio {
		stdioDone = mcpSide.serveStdio(ctx, stop, logger)
	}

	<-ctx.Done()
	// Restore default signal handling first, so that a second Ctrl-C ends a
	// shutdown that hangs.
	stop()
	a.Stop()
	logger.LogAttrs(context.Background(), slog.LevelInfo, "stopped", slog.String("reason", stopReason(ctx, stdioDone)))
	return nil
}

// logServeStart logs serve's start line, and warns when code_analysis may
// read nothing.
func logServeStart(ctx context.Context, logger *slog.Logger, s *config.Settings, a *app.App, analyzer *codeanalysis.Analyzer, dashURL string) {
	mcpEndpoint := "stdio"
	if !s.Stdio {
		mcpEndpoint = dashURL + "/mcp"
	}
	logger.LogAttrs(ctx, slog.LevelInfo, "starting",
		slog.String("version", version()),
		slog.String("go", runtime.Version()),
		slog.String("dashboard", dashURL),
		slog.String("mcp", mcpEndpoint),
		slog.Any("allow_roots", analyzer.Roots()),
		slog.Duration("interval", s.Interval),
		slog.String("data_dir", s.DataDir),
		slog.String("store", storeName(s)),
		slog.String("config_file", s.ConfigFile),
		slog.Int("alert_rules", len(a.Alerts.Rules())),
		slog.Int("alert_handlers", len(a.HandlerNames())),
		slog.String("alert_handler_names", strings.Join(a.HandlerNames(), ", ")),
	)
	if err := analyzer.Refusal(); err != nil {
		logger.LogAttrs(ctx, slog.LevelWarn, "code_analysis allows no directory", slog.Any("error", err))
	}
}

func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == config.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
