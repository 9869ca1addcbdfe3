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
	"sync"
	"syscall"

	"github.com/mcp-pba-tunnel/pbatunnel/codeanalysis"
	"github.com/mcp-pba-tunnel/pbatunnel/dashboard"
	"github.com/mcp-pba-tunnel/pbatunnel/export"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/config"
	"github.com/mcp-pba-tunnel/pbatunnel/mcpserver"
	"github.com/mcp-pba-tunnel/pbatunnel/memory"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
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

	m := monitor.New(s.Alerts.MonitorOptions(monitor.Options{
		Interval:     s.Interval,
		MaxSamples:   s.MaxSamples,
		MaxAge:       s.MaxAge,
		RecentWindow: s.RecentWindow,
		TrendWindow:  s.TrendWindow,
		Logger:       logger,
	}))
	// Rules and handlers go in before Start, so the first sample is judged
	// and notified like every other.
	runners, err := s.Alerts.Apply(m, logger)
	if err != nil {
		return fmt.Errorf("configuring alerts: %w", err)
	}
	var handlers []string
	for _, h := range m.AlertHandlerStats() {
		handlers = append(handlers, h.Name) // secrets are redacted by the handlers
	}
	// Subscribe before Start: the first sample is taken at once and would
	// otherwise be published before anyone listens.
	samples := m.Subscribe(ctx, 8)

	// The MCP server: the memory store under the data dir, code analysis
	// under the allowed roots.
	storePath := filepath.Join(s.DataDir, "memory.db")
	store, err := memory.Open(ctx, memory.Options{Path: storePath, Monitor: m})
	if err != nil {
		return fmt.Errorf("opening the memory store: %w", err)
	}
	defer store.Close()
	// The store's counts are gauges of the monitor. RegisterGauge fails
	// only for an empty name, a nil function or a full registry; a gauge
	// missing is shown as unavailable.
	_ = m.RegisterGauge(monitor.GaugeMemoryEntries, memory.Gauge(storePath, store.EntryCount))
	_ = m.RegisterGauge(monitor.GaugeRelationships, memory.Gauge(storePath, store.RelationshipCount))
	analyzer, err := codeanalysis.New(codeanalysis.Options{Roots: s.AllowRoots})
	if err != nil {
		return &usageError{err: fmt.Errorf("--allow-root: %w", err)}
	}
	mcpSrv := mcpserver.New(mcpserver.Options{Monitor: m, Memory: store, Analyzer: analyzer, Version: version()})
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
	dash, err := dashboard.Start(ctx, m, dashboard.Options{
		Addr:         s.Addr,
		AuthToken:    s.AuthToken,
		AllowedHosts: s.AllowedHosts,
		PollInterval: s.PollInterval,
		Config:       func() any { return s.Public() },
		Logger:       logger,
		Ready:        []dashboard.Check{{Name: "store", Run: store.Ping}},
		Mount:        map[string]http.Handler{"/mcp": mcpHTTP},
	})
	dashURL := ""
	switch {
	case err != nil && !s.Stdio:
		return err
	case err != nil:
		logger.LogAttrs(ctx, slog.LevelWarn, "dashboard not available; MCP over stdio works without it", slog.Any("error", err))
	default:
		dashURL = dashboardURL(ctx, logger, dash)
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
		slog.String("config_file", s.ConfigFile),
		slog.Int("alert_rules", len(m.Rules())),
		slog.Int("alert_handlers", len(handlers)),
		slog.String("alert_handler_names", strings.Join(handlers, ", ")),
	)
	if err := analyzer.Refusal(); err != nil {
		logger.LogAttrs(ctx, slog.LevelWarn, "code_analysis allows no directory", slog.Any("error", err))
	}
	if err := m.Start(ctx, s.Interval); err != nil {
		return fmt.Errorf("starting monitor: %w", err)
	}
	var running sync.WaitGroup
	runners = append(runners, exporters(s, m, logger)...)
	for _, r := range runners {
		running.Go(func() {
			if err := r.Run(ctx); err != nil && ctx.Err() == nil {
				logger.LogAttrs(ctx, slog.LevelError, "background loop ended", slog.Any("error", err))
			}
		})
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

	// The channel is closed when ctx ends.
	for snap := range samples {
		logger.LogAttrs(ctx, slog.LevelInfo, "sample", snap.LogAttrs()...)
	}

	// Restore default signal handling first, so that a second Ctrl-C ends a
	// shutdown that hangs.
	stop()
	m.Stop()
	running.Wait()
	if dash != nil {
		if err := dash.Wait(); err != nil {
			logger.LogAttrs(context.Background(), slog.LevelError, "dashboard stopped with an error", slog.Any("error", err))
		}
	}
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

// dashboardURL is the running dashboard's address, logged with a warning
// when it is reachable beyond loopback.
func dashboardURL(ctx context.Context, logger *slog.Logger, dash *dashboard.Server) string {
	if !dashboard.IsLoopback(dash.Addr()) {
		logger.LogAttrs(ctx, slog.LevelWarn, "dashboard listens beyond loopback; every route but the probes (/livez, /readyz, /api/health) needs the bearer token",
			slog.String("addr", dash.Addr()))
	}
	return "http://" + dash.Addr()
}

// runnerFunc adapts a function to config.Runner.
type runnerFunc func(ctx context.Context) error

func (f runnerFunc) Run(ctx context.Context) error { return f(ctx) }

// exporters returns the report exporters --export-url and --export-file ask
// for; their failures are logged.
func exporters(s *config.Settings, m *monitor.Monitor, logger *slog.Logger) []config.Runner {
	var out []config.Runner
	if s.ExportURL != "" {
		h := &export.HTTP{URL: s.ExportURL, OnError: func(err error) {
			logger.Warn("exporting the report failed", "error", err)
		}}
		out = append(out, runnerFunc(func(ctx context.Context) error { return h.Run(ctx, m) }))
	}
	if s.ExportFile != "" {
		f := &export.File{Path: s.ExportFile, OnError: func(err error) {
			logger.Warn("writing the report file failed", "error", err)
		}}
		out = append(out, runnerFunc(func(ctx context.Context) error { return f.Run(ctx, m) }))
	}
	return out
}

func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == config.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
