// Package mcpserver is pbatunnel's MCP server: the enhanced_memory,
// knowledge-graph, code_analysis and performance_report tools over the
// official Go SDK,
// with every request timed into the monitor.
package mcpserver

import (
	"log/slog"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/capture"
	"github.com/mcp-pba-tunnel/pbatunnel/catalog"
	"github.com/mcp-pba-tunnel/pbatunnel/codeanalysis"
	"github.com/mcp-pba-tunnel/pbatunnel/memory"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/telemetry"
	"github.com/mcp-pba-tunnel/pbatunnel/tokens"
)

// Implementation name reported to clients in the initialize result.
const Name = "pbatunnel"

// Options configure the server. Monitor is required; a nil Memory or
// Analyzer leaves its tool out. Memory is any implementation of the
// store; the tools use nothing else of it.
type Options struct {
	Monitor *monitor.Monitor
	// Alerts is the engine judging Monitor, whose alerts and health
	// performance_report shows. Nil: no rules.
	Alerts   *alert.Engine
	Memory   memory.Store
	Analyzer *codeanalysis.Analyzer
	// Version is reported to clients; default "devel".
	Version string
	// Logger receives the SDK's own log; nil keeps it quiet.
	Logger *slog.Logger
	// Tokens, when set, counts the tokens of every tool result.
	Tokens *tokens.Counter
	// Catalog, when set, is given the server's tool list at start and at
	// every tools/list, for what the catalogue costs a model's context.
	Catalog *catalog.Catalog
	// Payloads, when set, keeps each request's parameters and result
	// (capture is opt-in: serve --capture-payloads).
	Payloads *capture.Store
	// Telemetry, when set, makes each request an OpenTelemetry SERVER
	// span and records its duration metric.
	Telemetry *telemetry.Telemetry
	// OnSessionEnd, when set, is called with the transport and id of each
	// session, once it has ended ("" is stdio's id).
	OnSessionEnd func(transport, id string)
}

// New returns the MCP server with its tools and the metrics middleware, and
// registers the active_connections gauge (live sessions) on the monitor.
func New(opts Options) *mcp.Server {
	if opts.Version == "" {
		opts.Version = "devel"
	}
	so := &mcp.ServerOptions{Logger: opts.Logger, Instructions: instructions}
	if opts.Memory != nil {
		so.SubscribeHandler, so.UnsubscribeHandler = subscribeGraph, unsubscribeGraph
	}
	srv := mcp.NewServer(&mcp.Implementation{Name: Name, Title: "pbatunnel: monitored MCP server", Version: opts.Version}, so)
	tools := map[string]bool{}
	add := func(name string, register func(*mcp.Server)) {
		tools[name] = true
		register(srv)
	}
	if opts.Memory != nil {
		add(ToolEnhancedMemory, func(s *mcp.Server) { addMemoryTool(s, opts.Memory) })
		for _, name := range GraphTools {
			tools[name] = true
		}
		addGraphTools(srv, opts.Memory)
	}
	if opts.Analyzer != nil {
		add(ToolCodeAnalysis, func(s *mcp.Server) { addCodeAnalysisTool(s, opts.Analyzer) })
	}
	add(ToolPerformanceReport, func(s *mcp.Server) { addReportTool(s, source{opts.Monitor, opts.Alerts}) })
	if opts.Catalog != nil {
		// Listed before the middleware goes in, so that this listing is
		// not counted as a client's call.
		if err := listOwnTools(srv, opts.Catalog); err != nil && opts.Logger != nil {
			opts.Logger.Warn("listing the tool catalogue", "err", err)
		}
		srv.AddReceivingMiddleware(catalogUpdates(opts.Catalog))
	}
	var agreed *protocols
	if opts.Telemetry != nil {
		agreed = &protocols{} // for the spans' mcp.protocol.version
	}
	if opts.OnSessionEnd != nil || agreed != nil {
		srv.AddReceivingMiddleware(sessionEnds(opts.OnSessionEnd, agreed))
	}
	srv.AddReceivingMiddleware(metrics(opts.Monitor, func(name string) bool { return tools[name] }, opts.Tokens, opts.Payloads, opts.Telemetry, agreed))
	srv.AddReceivingMiddleware(ErrorCodes()) // outermost, after Metrics has classified plain errors
	_ = opts.Monitor.RegisterGauge(monitor.GaugeActiveConnections, func() (float64, error) {
		n := 0
		for range srv.Sessions() {
			n++
		}
		return float64(n), nil
	})
	return srv
}

const instructions = `pbatunnel keeps persistent memory for agents (enhanced_memory, and a knowledge graph of entities, observations and relations: create_entities, add_observations, search_nodes, open_nodes, read_graph…), analyses code under the allowed roots (code_analysis), and reports on its own performance (performance_report). Every call is measured; the dashboard shows them live.`
