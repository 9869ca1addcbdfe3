package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/mcp-pba-tunnel/pbatunnel/codeanalysis"
	"github.com/mcp-pba-tunnel/pbatunnel/dashboard"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/app"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/config"
	"github.com/mcp-pba-tunnel/pbatunnel/mcpserver"
	"github.com/mcp-pba-tunnel/pbatunnel/memory"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/sessions"
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
	m := a.Monitor
	if err := a.Configure(); err != nil {
		return err
	}
	if err := a.StartTelemetry(); err != nil {
		return err
	}

	// The MCP server: the memory store under the data dir, code analysis
	// under the allowed roots.
	storePath := filepath.Join(s.DataDir, memoryDBName)
	store, err := memory.Open(ctx, memory.Options{Path: storePath, URL: s.Store, Monitor: m})
	if err != nil {
		return fmt.Errorf("opening the memory store: %w", err)
	}
	defer store.Close()
	// The store's counts are gauges of the monitor. RegisterGauge fails
	// only for an empty name, a nil function or a full registry; a gauge
	// missing is shown as unavailable.
	_ = m.RegisterGauge(monitor.GaugeMemoryEntries, memory.Gauge(storeName(s), store.EntryCount))
	_ = m.RegisterGauge(monitor.GaugeRelationships, memory.Gauge(storeName(s), store.RelationshipCount))
	analyzer, err := codeanalysis.New(codeanalysis.Options{Roots: s.AllowRoots})
	if err != nil {
		return &usageError{err: fmt.Errorf("--allow-root: %w", err)}
	}
	mcpSrv := mcpserver.New(mcpserver.Options{Monitor: m, Alerts: a.Alerts, Tokens: a.Tokens, Payloads: a.Payloads, Catalog: a.Catalog, Memory: store, Telemetry: a.Telemetry,
		OnSessionEnd: func(transport, id string) { a.Sessions.End(transport, id, sessions.EndClosed) }, Analyzer: analyzer, Version: version()})
	mcpHTTP, err := mcpserver.HTTPHandler(mcpSrv, &mcpserver.HTTPOptions{
		SessionTimeout: s.SessionTimeout,
		MaxSessions:    s.MaxSessions,
		AllowedHosts:   s.AllowedHosts,
	})
	if err != nil {
		return &usageError{err: fmt.Errorf("--allowed-host: %w", err)}
	}

	// The dashboard listens before sampling starts, so that a port in use
	// is reported at once and nothing else has begun. Over stdio, MCP does
	// not need it: a busy port only costs the dashboard.
	dashURL, err := a.StartDashboard(ctx, dashboard.Options{
		Config: func() any { return s.Public() },
		Ready:  []dashboard.Check{{Name: "store", Run: store.Ping}},
		Mount:  map[string]http.Handler{"/mcp": mcpHTTP},
	})
	switch {
	case err != nil && !s.Stdio:
		return err
	case err != nil:
		logger.LogAttrs(ctx, slog.LevelWarn, "dashboard not available; MCP over stdio works without it", slog.Any("error", err))
	}
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
	if err := a.Start(ctx, slog.LevelInfo); err != nil {
		return err
	}

	// Over stdio, the client closing stdin ends the server, like a signal.
	// Requests read before stdin closed are all answered first.
	type stdioEnd struct {
		sum mcpserver.StdioSummary
		err error
	}
	stdioDone := make(chan stdioEnd, 1)
	if s.Stdio {
		go func() {
			sum, err := mcpserver.ServeStdio(ctx, mcpSrv, &mcpserver.StdioOptions{
				OnBadLine: func(code int64, msg string) {
					logger.LogAttrs(ctx, slog.LevelWarn, "answered an invalid MCP message with an error",
						slog.Int64("code", code), slog.String("error", msg))
				},
			})
			stdioDone <- stdioEnd{sum, err}
			stop()
		}()
	}

	<-ctx.Done()
	// Restore default signal handling first, so that a second Ctrl-C ends a
	// shutdown that hangs.
	stop()
	a.Stop()
	reason := context.Cause(ctx).Error()
	if s.Stdio {
		select {
		case end := <-stdioDone:
			reason = end.sum.Reason()
			if end.err != nil && !end.sum.ClientClosed {
				reason += ": " + end.err.Error()
			}
		default:
		}
	}
	logger.LogAttrs(context.Background(), slog.LevelInfo, "stopped", slog.String("reason", reason))
	return nil
}

func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == config.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
