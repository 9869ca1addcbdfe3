// Package app is the one place where pbatunnel's commands put the monitor
// together: the monitor from the settings, its alert rules and
// notifiers, the dashboard, the report exporters, the log of samples, and
// the order in which they stop. serve and proxy each add their MCP side
// (the server, or the tunnel) and nothing else.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/capture"
	"github.com/mcp-pba-tunnel/pbatunnel/catalog"
	"github.com/mcp-pba-tunnel/pbatunnel/dashboard"
	"github.com/mcp-pba-tunnel/pbatunnel/export"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/config"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/sessions"
	"github.com/mcp-pba-tunnel/pbatunnel/telemetry"
	"github.com/mcp-pba-tunnel/pbatunnel/tokens"
)

// An App is the monitoring half of a command. Build it with New, let the
// command register its own gauges on Monitor and rules on Alerts, then Configure,
// StartDashboard, Start, and at the end Stop.
type App struct {
	// Monitor is the monitor the command records into.
	Monitor *monitor.Monitor
	// Alerts judges the monitor's samples by the rules.
	Alerts *alert.Engine
	// Sessions follows the MCP sessions and clients behind the calls.
	Sessions *sessions.Tracker
	// Tokens counts the model tokens of tool results, off the calls' path.
	Tokens *tokens.Counter
	// Payloads keeps the calls' arguments and results; nil unless the
	// settings ask for capture.
	Payloads *capture.Store
	// Catalog is the tool catalogue the MCP side offers.
	Catalog *catalog.Catalog
	// Telemetry exports OpenTelemetry spans and metrics over OTLP; nil
	// when no endpoint is configured. Built by StartTelemetry.
	Telemetry *telemetry.Telemetry
	// Version is the program's, for the telemetry resource; set before
	// StartTelemetry.
	Version string
	// Kinds are the sides of MCP the command is on, for the session
	// duration metrics: serve is a server; proxy both.
	Kinds []telemetry.Kind

	s       *config.Settings
	logger  *slog.Logger
	runners []Runner // the alert handlers' loops, from Configure
	extra   []Runner // the command's own, from Run
	dash    *dashboard.Server
	running sync.WaitGroup
}

// New builds the monitor and its alert engine from s. Nothing runs yet.
func New(s *config.Settings, logger *slog.Logger) *App {
	m := monitor.New(monitor.Options{
		Interval:     s.Interval,
		MaxSamples:   s.MaxSamples,
		MaxAge:       s.MaxAge,
		RecentWindow: s.RecentWindow,
		TrendWindow:  s.TrendWindow,
		CallRing:     s.CallRing,
		Logger:       logger,
	})
	ao := s.Alerts.EngineOptions()
	ao.Logger = logger
	a := &App{Monitor: m, Alerts: alert.New(m, ao), Tokens: tokens.New(m, tokens.Options{}), Catalog: &catalog.Catalog{}, s: s, logger: logger,
		Kinds: []telemetry.Kind{telemetry.Server}}
	a.Sessions = sessions.New(m, sessions.Options{Idle: s.SessionTimeout, MaxLive: s.MaxSessions, OnEnd: a.sessionEnded})
	if s.CapturePayloads {
		a.Payloads = capture.New(capture.Options{MaxBytes: s.CaptureMaxBytes, RedactKeys: s.EffectiveRedactKeys()})
	}
	return a
}

// Configure applies the config file's alert rules and notifiers. It comes
// after the command's own gauges and rules, so that the file may refer to
// them or replace them, and before Start, so that the first sample is
// judged and notified like every other.
func (a *App) Configure() error {
	runners, err := ApplyAlerts(&a.s.Alerts, a.Alerts, a.logger)
	if err != nil {
		return fmt.Errorf("configuring alerts: %w", err)
	}
	a.runners = runners
	return nil
}

// StartTelemetry starts the OpenTelemetry export the settings and the
// OTEL_* environment ask for (none: Telemetry stays nil), before the
// command builds its MCP side, which makes the spans. Stop ends it.
func (a *App) StartTelemetry() error {
	tel, err := telemetry.New(context.Background(), telemetry.Options{
		Endpoint: a.s.OTLPEndpoint, Protocol: a.s.OTLPProtocol, Version: a.Version, CapturePayloads: a.s.CapturePayloads,
		Count: func(name string, n uint64) { a.Monitor.Counter(name).Add(float64(n)) },
		Warn: func(msg string) {
			a.logger.LogAttrs(context.Background(), slog.LevelWarn, "OpenTelemetry setting not used as given", slog.String("detail", msg))
		},
		OnError: func(err error, untold int) {
			a.logger.LogAttrs(context.Background(), slog.LevelWarn, "OpenTelemetry export failed",
				slog.String("error", err.Error()), slog.Int("more_since_last_told", untold))
		},
	})
	if err != nil {
		return fmt.Errorf("configuring OpenTelemetry export: %w", err)
	}
	a.Telemetry = tel
	return nil
}

// sessionEnded records an ended session's duration, on each side of MCP
// the command is on.
func (a *App) sessionEnded(s sessions.Session) {
	if a.Telemetry == nil || s.Started.IsZero() {
		return
	}
	transport := telemetry.TransportPipe
	if s.Transport == monitor.TransportHTTP {
		transport = telemetry.TransportTCP
	}
	for _, k := range a.Kinds {
		a.Telemetry.SessionEnded(context.Background(), k, s.Ended.Sub(s.Started), transport, s.Protocol)
	}
}

// SessionClosed tells the session tracker that the MCP side saw a session
// end (a DELETE, a closed stdio), so that it is not left to time out. It is
// the OnSessionEnd of both the MCP server and the tunnel.
func (a *App) SessionClosed(transport, id string) {
	a.Sessions.End(transport, id, sessions.EndClosed)
}

// HandlerNames are the alert handlers' names, for the start line; secrets
// are redacted by the handlers.
func (a *App) HandlerNames() []string {
	var names []string
	for _, h := range a.Alerts.HandlerStats() {
		names = append(names, h.Name)
	}
	return names
}

// StartDashboard serves the dashboard until ctx ends, with the listener,
// token, hosts and poll interval of the settings and the rest of opts
// (Config, Ready, Mount) from the command. It returns the dashboard's URL,
// or why it could not listen: the command decides whether it can go on
// without it.
func (a *App) StartDashboard(ctx context.Context, opts dashboard.Options) (string, error) {
	opts.Addr = a.s.Addr
	opts.AuthToken = a.s.AuthToken
	opts.AllowedHosts = a.s.AllowedHosts
	opts.PollInterval = a.s.PollInterval
	opts.Logger = a.logger
	opts.Alerts = a.Alerts
	opts.Sessions = a.Sessions
	opts.Payloads = a.Payloads
	opts.Catalog = a.Catalog
	dash, err := dashboard.Start(ctx, a.Monitor, opts)
	if err != nil {
		return "", err
	}
	a.dash = dash
	if !dashboard.IsLoopback(dash.Addr()) {
		a.logger.LogAttrs(ctx, slog.LevelWarn, "dashboard listens beyond loopback; every route but the probes (/livez, /readyz, /api/health) needs the bearer token",
			slog.String("addr", dash.Addr()))
	}
	return "http://" + dash.Addr(), nil
}

// Start starts sampling, the notifiers' loops and the exporters until ctx
// ends, and logs each sample at sampleLevel.
func (a *App) Start(ctx context.Context, sampleLevel slog.Level) error {
	// Subscribed before the monitor starts: the first sample is taken at
	// once and would otherwise be published before anyone listens.
	samples := a.Monitor.Subscribe(ctx, 8)
	// The handlers' queues before the first sample, so that its alerts are
	// queued rather than delivered inline: a dead webhook must not delay
	// the start.
	a.Alerts.Start(ctx)
	if err := a.Monitor.Start(ctx, a.s.Interval); err != nil {
		return fmt.Errorf("starting monitor: %w", err)
	}
	a.running.Go(func() {
		for snap := range samples { // closed when ctx ends
			a.logger.LogAttrs(ctx, sampleLevel, "sample", snap.LogAttrs()...)
		}
	})
	runners := append(append(append([]Runner{a.Sessions, a.Tokens}, a.runners...), a.extra...), a.exporters()...)
	for _, r := range runners {
		a.running.Go(func() {
			if err := r.Run(ctx); err != nil && ctx.Err() == nil {
				a.logger.LogAttrs(ctx, slog.LevelError, "background loop ended", slog.Any("error", err))
			}
		})
	}
	return nil
}

// Stop waits for what Start and StartDashboard began, in order: sampling,
// then the alert handlers and the loops, then the dashboard's shutdown. The
// context they were given must have ended, or be about to.
func (a *App) Stop() {
	a.Monitor.Stop()
	a.Alerts.Wait()
	a.running.Wait()
	if a.Telemetry != nil {
		// What is pending goes out, within a bound: a collector that is
		// down must not hold the exit (gRPC export retries until told).
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := a.Telemetry.Shutdown(ctx); err != nil {
			a.logger.LogAttrs(ctx, slog.LevelWarn, "OpenTelemetry export did not finish", slog.Any("error", err))
		}
		cancel()
	}
	if a.dash != nil {
		if err := a.dash.Wait(); err != nil {
			a.logger.LogAttrs(context.Background(), slog.LevelError, "dashboard stopped with an error", slog.Any("error", err))
		}
	}
}

// Run adds a loop of the command's own to those Start starts and Stop
// waits for. Call it before Start.
func (a *App) Run(r Runner) { a.extra = append(a.extra, r) }

// runnerFunc adapts a function to Runner.
type runnerFunc func(ctx context.Context) error

func (f runnerFunc) Run(ctx context.Context) error { return f(ctx) }

// exporters returns the report exporters --export-url and --export-file ask
// for; their failures are logged.
func (a *App) exporters() []Runner {
	var out []Runner
	if u := a.s.ExportURL; u != "" {
		h := &export.HTTP{URL: u, OnError: func(err error) {
			a.logger.Warn("exporting the report failed", "error", err)
		}}
		out = append(out, runnerFunc(func(ctx context.Context) error { return h.Run(ctx, a.Monitor) }))
	}
	if f := a.s.ExportFile; f != "" {
		w := &export.File{Path: f, OnError: func(err error) {
			a.logger.Warn("writing the report file failed", "error", err)
		}}
		out = append(out, runnerFunc(func(ctx context.Context) error { return w.Run(ctx, a.Monitor) }))
	}
	return out
}
