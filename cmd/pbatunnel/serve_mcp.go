package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/codeanalysis"
	"github.com/mcp-pba-tunnel/pbatunnel/dashboard"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/app"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/config"
	"github.com/mcp-pba-tunnel/pbatunnel/mcpserver"
	"github.com/mcp-pba-tunnel/pbatunnel/memory"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// serveMCP is serve's MCP side: the server, what its tools read (the
// memory store under the data dir or in --store, code analysis under the
// allowed roots), and its Streamable HTTP handler.
type serveMCP struct {
	store    memory.Store
	analyzer *codeanalysis.Analyzer
	server   *mcp.Server
	http     http.Handler
}

// newServeMCP opens the store and builds the server on a's monitoring.
// close closes the store.
func newServeMCP(ctx context.Context, s *config.Settings, a *app.App) (*serveMCP, error) {
	m := a.Monitor
	store, err := memory.Open(ctx, memory.Options{Path: filepath.Join(s.DataDir, memoryDBName), URL: s.Store, Monitor: m})
	if err != nil {
		return nil, fmt.Errorf("opening the memory store: %w", err)
	}
	// The store's counts are gauges of the monitor. RegisterGauge fails
	// only for an empty name, a nil function or a full registry; a gauge
	// missing is shown as unavailable.
	_ = m.RegisterGauge(monitor.GaugeMemoryEntries, memory.Gauge(storeName(s), store.EntryCount))
	_ = m.RegisterGauge(monitor.GaugeRelationships, memory.Gauge(storeName(s), store.RelationshipCount))
	analyzer, err := codeanalysis.New(codeanalysis.Options{Roots: s.AllowRoots})
	if err != nil {
		store.Close()
		return nil, &usageError{err: fmt.Errorf("--allow-root: %w", err)}
	}
	srv := mcpserver.New(mcpserver.Options{Monitor: m, Alerts: a.Alerts, Tokens: a.Tokens, Payloads: a.Payloads, Catalog: a.Catalog, Memory: store, Telemetry: a.Telemetry,
		OnSessionEnd: a.SessionClosed, Analyzer: analyzer, Version: version()})
	h, err := mcpserver.HTTPHandler(srv, &mcpserver.HTTPOptions{
		SessionTimeout: s.SessionTimeout,
		MaxSessions:    s.MaxSessions,
		AllowedHosts:   s.AllowedHosts,
	})
	if err != nil {
		store.Close()
		return nil, &usageError{err: fmt.Errorf("--allowed-host: %w", err)}
	}
	return &serveMCP{store: store, analyzer: analyzer, server: srv, http: h}, nil
}

func (m *serveMCP) close() { m.store.Close() }

// dashboard is what the dashboard shows of serve: the settings in
// /api/config, the store in /readyz, and the MCP endpoint at /mcp.
func (m *serveMCP) dashboard(s *config.Settings) dashboard.Options {
	return dashboard.Options{
		Config: func() any { return s.Public() },
		Ready:  []dashboard.Check{{Name: "store", Run: m.store.Ping}},
		Mount:  map[string]http.Handler{"/mcp": m.http},
	}
}

// stdioEnd is how serving MCP over stdio ended.
type stdioEnd struct {
	sum mcpserver.StdioSummary
	err error
}

// serveStdio serves MCP on stdin and stdout until the client closes stdin
// or ctx ends, then calls stop: the client closing stdin ends the server,
// like a signal. Requests read before stdin closed are all answered first.
// The channel gets how it ended.
func (m *serveMCP) serveStdio(ctx context.Context, stop func(), logger *slog.Logger) <-chan stdioEnd {
	done := make(chan stdioEnd, 1)
	go func() {
		sum, err := mcpserver.ServeStdio(ctx, m.server, &mcpserver.StdioOptions{
			OnBadLine: func(code int64, msg string) {
				logger.LogAttrs(ctx, slog.LevelWarn, "answered an invalid MCP message with an error",
					slog.Int64("code", code), slog.String("error", msg))
			},
		})
		done <- stdioEnd{sum, err}
		stop()
	}()
	return done
}

// stopReason is why serve stopped, for its last log line: the end of
// serving stdio when that is what ended it (stdio is nil without
// --stdio), else the signal or the end of ctx.
func stopReason(ctx context.Context, stdio <-chan stdioEnd) string {
	select {
	case end := <-stdio:
		reason := end.sum.Reason()
		if end.err != nil && !end.sum.ClientClosed {
			reason += ": " + end.err.Error()
		}
		return reason
	default:
		return context.Cause(ctx).Error()
	}
}
