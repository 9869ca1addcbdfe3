package mcpserver

import (
	"context"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/capture"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/telemetry"
)

// startSpan begins the SERVER span of a request, a child of the caller's
// context from its _meta (or its HTTP headers), and returns ctx with it.
func startSpan(ctx context.Context, tel *telemetry.Telemetry, start time.Time, method string, req mcp.Request, ex *exchange, agreed *protocols) (context.Context, *telemetry.Op) {
	if tel == nil {
		return ctx, nil
	}
	r := telemetry.Request{Kind: telemetry.Server, Method: method, Start: start, Transport: telemetry.TransportPipe}
	switch p := req.GetParams().(type) {
	case *mcp.CallToolParamsRaw: // as a server receives them
		if p != nil {
			r.Target = p.Name
		}
	case *mcp.GetPromptParams:
		if p != nil {
			r.Target = p.Name
		}
	case *mcp.ReadResourceParams:
		if p != nil {
			r.URI = p.URI
		}
	case *mcp.SubscribeParams:
		if p != nil {
			r.URI = p.URI
		}
	}
	var header map[string][]string
	if extra := req.GetExtra(); extra != nil {
		header = extra.Header
	}
	if ss, ok := req.GetSession().(*mcp.ServerSession); ok && ss != nil {
		// Only a Streamable HTTP session has an id; the conventions name
		// it only then.
		if r.Session = ss.ID(); r.Session != "" {
			r.Transport = telemetry.TransportTCP
		}
		r.Protocol = agreed.get(ss)
	}
	meta := metaOf(req.GetParams())
	if v, ok := meta[mcp.MetaKeyProtocolVersion].(string); ok {
		r.Protocol = v
	}
	if header != nil {
		r.Transport = telemetry.TransportTCP
	}
	if ex != nil {
		r.ID, r.Peer = ex.id, ex.peer
	}
	ctx, r.Link = telemetry.Extract(ctx, meta, header)
	return tel.Start(ctx, r)
}

// endSpan ends a request's span with the call's outcome; with payload
// capture on, a tool call's span carries its arguments and result as
// the call log keeps them (redacted, cut).
func endSpan(ctx context.Context, op *telemetry.Op, c *monitor.Call, payloads *capture.Store, callID uint64) {
	if op == nil {
		return
	}
	out := telemetry.Outcome{End: c.Start.Add(c.Duration), ErrorType: c.ErrorType, Message: c.Error, Protocol: c.Protocol}
	if payloads != nil && c.Method == monitor.MethodToolsCall {
		if p, ok := payloads.Get(callID); ok {
			out.Arguments, out.Result = p.Arguments.String(), p.Result.String()
		}
	}
	op.End(ctx, out)
}
