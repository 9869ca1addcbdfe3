package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/mcp-pba-tunnel/pbatunnel/dashboard"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/app"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/config"
	"github.com/mcp-pba-tunnel/pbatunnel/record"
	"github.com/mcp-pba-tunnel/pbatunnel/telemetry"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
)

// newProxyApp builds the proxy's monitoring half and starts its
// OpenTelemetry export, which the tunnel's spans go to.
func newProxyApp(s *config.Settings, logger *slog.Logger) (*app.App, error) {
	a := app.New(s, logger)
	a.Version = version()
	// The proxy is a server to its client and a client to its upstream:
	// a session's duration counts on both sides.
	a.Kinds = []telemetry.Kind{telemetry.Server, telemetry.Client}
	if err := a.StartTelemetry(); err != nil {
		return nil, err
	}
	return a, nil
}

// proxyObservers are what the tunnel feeds besides the monitor: a's
// token counter, payloads, catalogue (checked against --pin, and guarding
// calls with --on-drift block), telemetry and session tracker, and the
// --record file, written until monitoring stops.
func proxyObservers(a *app.App, s *config.Settings, pf *proxyFlags, logger *slog.Logger) (tunnel.Observers, error) {
	if pf.pin != "" {
		if err := usePin(a.Catalog, pf.pin, logger); err != nil {
			return tunnel.Observers{}, &usageError{err: fmt.Errorf("--pin: %w", err)}
		}
	}
	obs := tunnel.Observers{Tokens: a.Tokens, Payloads: a.Payloads, Catalog: a.Catalog, Telemetry: a.Telemetry,
		Upstream: upstreamHostPort(pf.upstream), OnSessionEnd: a.SessionClosed}
	if pf.record != "" {
		rec, err := record.Open(record.Options{Path: pf.record, MaxBytes: pf.recordMax, RedactKeys: s.EffectiveRedactKeys()})
		if err != nil {
			return tunnel.Observers{}, &usageError{err: fmt.Errorf("--record: %w", err)}
		}
		a.Run(rec) // written until monitoring stops, then flushed and closed
		obs.Recorder = rec
	}
	if pf.onDrift == "block" {
		obs.Block = blockDrifted(a.Catalog)
	}
	return obs, nil
}

// logRecording logs what the --record file got, once monitoring has
// stopped and the file is closed; nothing without --record.
func logRecording(logger *slog.Logger, rec *record.Recorder, path string) {
	if rec == nil {
		return
	}
	st := rec.Stats()
	level := slog.LevelInfo
	if st.Dropped > 0 || st.Failed > 0 {
		level = slog.LevelWarn // the recording has gaps
	}
	logger.LogAttrs(context.Background(), level, "recording closed", slog.String("file", path),
		slog.Uint64("lines", st.Written), slog.Uint64("dropped", st.Dropped), slog.Uint64("failed", st.Failed),
		slog.Uint64("rotations", st.Rotations))
}

// startProxyDashboard serves the dashboard until ctx ends, with the
// upstream in /api/config and its readiness as /readyz's. A port in use
// is logged and no reason to stop: several proxies, one per MCP server,
// commonly share a configuration; the first gets the port, the others
// relay all the same (and return "").
func startProxyDashboard(ctx context.Context, a *app.App, s *config.Settings, info func() tunnel.Info, logger *slog.Logger) (string, error) {
	url, err := a.StartDashboard(ctx, dashboard.Options{
		Config: func() any {
			pub := s.Public()
			pub["upstream"] = info()
			return pub
		},
		Ready: []dashboard.Check{{Name: "upstream", Run: func(context.Context) error { return info().Ready() }}},
	})
	switch {
	case errors.Is(err, dashboard.ErrAuthRequired):
		return "", &usageError{err: err}
	case err != nil:
		logger.LogAttrs(ctx, slog.LevelWarn, "dashboard not available; proxying without it", slog.Any("error", err))
	}
	return url, nil
}

// addTunnelRules registers the upstream's gauges and their rules:
// upstream_up (the tunnel's own gauge), then the gauges read from the
// server's tools/list answers as they pass, upstream_tools (none is a
// server an agent can do nothing with) and tool_catalog_drift (tools that
// changed under the agent). They go in before the config file's rules, so
// that those may refer to them or replace them.
func addTunnelRules(a *app.App) error {
	if err := a.Alerts.AddRule(tunnel.UpstreamDownRule()); err != nil {
		return err
	}
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
