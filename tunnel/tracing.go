package tunnel

import (
	"context"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/jsonmeta"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/telemetry"
)

// Tracing through the tunnel. A client's request is a SERVER span (the
// request as received, child of the caller's context in its _meta) and a
// CLIENT span, its child (the request as sent on), whose context replaces
// the one in the forwarded request's _meta, so that the server's own spans
// join the same trace. Only that member of the message changes; a request
// the tunnel cannot rewrite (in a batch, on a line too long to hold, with
// params that are not an object) is relayed as it came, and traced with
// no link to the server's spans.

// traceRequest starts the spans of c, the client's request m, and returns
// the request's bytes with the CLIENT span's context in _meta, or nil
// when they go on unchanged: tracing is off (metrics alone change no
// byte), the request is not whole, or the rewritten request would pass
// the size the tunnel holds (and so, likely, the server's limit).
func (co *correlator[T]) traceRequest(m *message, h *hop[T], c *call[T]) []byte {
	tel := co.obs.Telemetry
	if tel == nil {
		return nil
	}
	// The parent: the context in _meta, else the HTTP request's headers,
	// linked when both name one.
	var meta map[string]any
	if h.raw != nil {
		keys := [3]string{telemetry.MetaTraceparent, telemetry.MetaTracestate, telemetry.MetaBaggage}
		if vals, err := jsonmeta.Get(h.raw, keys[:]...); err == nil && vals[0] != "" {
			meta = map[string]any{}
			for i, v := range vals {
				if v != "" {
					meta[keys[i]] = v
				}
			}
		}
	}
	parent, link := telemetry.Extract(context.Background(), meta, h.header)
	transport := telemetry.TransportPipe
	if co.meters.transport == monitor.TransportHTTP {
		transport = telemetry.TransportTCP
	}
	r := telemetry.Request{
		Kind: telemetry.Server, Method: c.method, Target: c.tool, Start: c.start, ID: idText(m.ID),
		Session: c.session, Transport: transport, Peer: h.peer, Protocol: co.clients.protocol(c.session), Link: link,
	}
	if c.method != monitor.MethodToolsCall && c.method != "prompts/get" {
		r.Target = ""
	}
	if c.method == "prompts/get" {
		r.Target = m.toolName() // params.name, as for a tool
	}
	sctx, server := tel.Start(parent, r)
	r.Kind, r.Peer, r.Link = telemetry.Client, co.obs.Upstream, trace.SpanContext{}
	cctx, client := tel.Start(sctx, r)
	c.req.spans = [2]*telemetry.Op{server, client}
	if h.raw == nil || !tel.Tracing() {
		return nil
	}
	carried := telemetry.Inject(cctx)
	if carried.Traceparent == "" {
		return nil // no span to hand on
	}
	// A fixed order: the same request always becomes the same bytes.
	kv := [3]jsonmeta.KV{{Key: telemetry.MetaTraceparent, Value: carried.Traceparent}}
	n := 1
	if carried.Tracestate != "" {
		kv[n] = jsonmeta.KV{Key: telemetry.MetaTracestate, Value: carried.Tracestate}
		n++
	}
	if carried.Baggage != "" {
		kv[n] = jsonmeta.KV{Key: telemetry.MetaBaggage, Value: carried.Baggage}
		n++
	}
	out, err := jsonmeta.Set(h.raw, kv[:n]...)
	if err != nil || (co.maxRewrite > 0 && len(out) > co.maxRewrite) {
		return nil
	}
	return out
}

// untraced ends the spans of a request the tunnel relays but cannot time
// (its id already waits, or the table of requests is full): the spans
// are kept, so that the server's are not orphans, without a duration.
func untraced(c *reqExtra, at time.Time) {
	c.spans[1].Discard(at)
	c.spans[0].Discard(at)
}

// endTrace ends the spans of c, CLIENT then SERVER, with the outcome of
// the call recorded as mc. With payload capture on, a tool call's spans
// carry its arguments and result as the call log keeps them: redacted
// and cut, never as they came.
func (co *correlator[T]) endTrace(c *reqExtra, mc *monitor.Call, id uint64) {
	if c.spans[0] == nil {
		return
	}
	out := telemetry.Outcome{End: mc.Start.Add(mc.Duration), ErrorType: mc.ErrorType, Message: mc.Error, Protocol: mc.Protocol}
	if mc.Method == monitor.MethodToolsCall {
		if p, ok := co.obs.Payloads.Get(id); ok {
			out.Arguments, out.Result = p.Arguments.String(), p.Result.String()
		}
	}
	ctx := context.Background()
	c.spans[1].End(ctx, out)
	c.spans[0].End(ctx, out)
}

// idText is a raw JSON-RPC id as jsonrpc.request.id has it: a string
// without its quotes, a number as written.
func idText(raw []byte) string {
	if len(raw) > 1 && raw[0] == '"' {
		if s, err := strconv.Unquote(string(raw)); err == nil {
			return s
		}
		return ""
	}
	return string(raw)
}
