package tunnel

import (
	"context"
	"strconv"
	"sync/atomic"
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

// traceRequest starts the spans of c, request m of the client's (or of
// the server's, fromServer), and returns the request's bytes with the
// CLIENT span's context in _meta, or nil when they go on unchanged:
// tracing is off (metrics alone change no byte), the request is not
// whole, or the rewritten request would pass the size the tunnel holds
// (and so, likely, the receiver's limit). The bytes are h.raw itself,
// changed, when the context could be written over the one the request
// had; else a copy. A server's request (sampling, elicitation, roots) is
// traced as a client's is, the sides swapped: the tunnel receives it from
// the server and sends it on to the client.
func (co *correlator[T]) traceRequest(m *message, h *hop[T], c *call[T], fromServer bool) []byte {
	tel := co.obs.Telemetry
	if tel == nil {
		return nil
	}
	r := co.spanRequest(m, h, c.session, fromServer)
	r.ID, r.Start = idText(m.ID), c.start
	switch c.method {
	case monitor.MethodToolsCall, "prompts/get":
		// params.name, of a prompt as of a tool: a client's tool call
		// has it read already.
		if r.Target = c.tool; r.Target == "" {
			r.Target = m.toolName()
		}
	}
	// One parse of the request serves both the caller's context and
	// the rewrite. Only what the request sent on carries is decided now;
	// the spans are made once the call is over, off its way.
	var doc jsonmeta.Doc
	parent, readable := co.parentOf(m, h, &doc)
	t := &tracedRequest{r: r, serverPeer: co.peerOf(h, !fromServer)}
	t.pair = tel.Decide(parent)
	c.req.traced = t
	// Over HTTP the server's requests come in its event stream, which is
	// relayed as it comes: a rewrite would be thrown away.
	if !readable || !tel.Tracing() || (fromServer && co.meters.transport == monitor.TransportHTTP) {
		return nil
	}
	carried := t.pair.Carried()
	if carried.Traceparent == "" {
		return nil // no span to hand on
	}
	// A client's own context gives way to the tunnel's in its place,
	// where it can (the tunnel owns the bytes it read): a traced client's
	// request then costs no copy.
	if doc.Overwrite(carried.Traceparent, carried.Tracestate, carried.Baggage) {
		return h.raw
	}
	// A fixed order: the same request always becomes the same bytes.
	out, err := doc.Set(carried.Traceparent, carried.Tracestate, carried.Baggage)
	if err != nil || (co.maxRewrite > 0 && len(out) > co.maxRewrite) {
		return nil
	}
	return out
}

// metaKeys are the members of _meta that carry the trace context, in the
// order the rewrite writes them.
var metaKeys = [3]string{telemetry.MetaTraceparent, telemetry.MetaTracestate, telemetry.MetaBaggage}

// traceNotification makes the SERVER and CLIENT spans of a notification
// the tunnel relays, ended as it goes on: what the conventions ask of
// notifications, with the relay's own time as their duration. Their
// _meta is not rewritten (many have no params at all, and adding them is
// a change a strict receiver may refuse): the spans join the sender's
// trace, the receiver's do not join them. Log messages
// (notifications/message) make none, as in the official TypeScript SDK:
// a server that logs much would bury its requests' spans.
func (co *correlator[T]) traceNotification(m *message, h *hop[T], fromServer bool) {
	tel := co.obs.Telemetry
	if tel == nil || m.Method == "notifications/message" {
		return
	}
	r := co.spanRequest(m, h, h.session, fromServer)
	r.Start = h.now
	var doc jsonmeta.Doc
	parent, _ := co.parentOf(m, h, &doc)
	server, client := tel.StartPair(parent, r, co.peerOf(h, !fromServer))
	out := telemetry.Outcome{End: time.Now()}
	ctx := context.Background()
	client.End(ctx, out)
	server.End(ctx, out)
}

// spanRequest is what the SERVER span of message m says, but its target:
// the side it came from is its peer.
func (co *correlator[T]) spanRequest(m *message, h *hop[T], session string, fromServer bool) telemetry.Request {
	transport := telemetry.TransportPipe
	if co.meters.transport == monitor.TransportHTTP {
		transport = telemetry.TransportTCP
	}
	r := telemetry.Request{
		Kind: telemetry.Server, Method: m.Method, Session: session, Transport: transport,
		Peer: co.peerOf(h, fromServer), Protocol: co.clients.protocol(session),
	}
	return r
}

// peerOf is the address of the server (server) or of the client.
func (co *correlator[T]) peerOf(h *hop[T], server bool) string {
	if server {
		return co.obs.Upstream
	}
	return h.peer
}

// parentOf is the context message m names as its parent: the one in its
// _meta, else its HTTP request's headers, linked when both name one. It
// reads the message into doc, from where the tunnel's own reading of it
// found _meta (m.path), and reports whether it could: only then can doc
// rewrite it.
func (co *correlator[T]) parentOf(m *message, h *hop[T], doc *jsonmeta.Doc) (telemetry.Parent, bool) {
	if h.raw == nil || doc.ReadPath(h.raw, &m.path, metaKeys[:]...) != nil {
		return telemetry.ParentOf([3]string{}, h.header), false
	}
	// The traceparent is parsed where it lies when it is plain ASCII;
	// with escapes, as Value decodes it.
	traceparent, plain := doc.Plain(0)
	if !plain {
		return telemetry.ParentOf([3]string{doc.Value(0), doc.Value(1), doc.Value(2)}, h.header), true
	}
	return telemetry.ParentOfRaw(traceparent, doc.Value(1), doc.Value(2), h.header), true
}

// A tracedRequest is a request's spans as decided when it passed
// (telemetry.Pair), with what makes them once it is over.
type tracedRequest struct {
	pair       telemetry.Pair
	r          telemetry.Request
	serverPeer string
	// made is set when the spans are claimed to be made and ended
	// (claim): once, as an Op ends once, whichever way the request is
	// over first. A request of the server's recorded when cancelled,
	// say, is cleared again with its session.
	made atomic.Bool
}

// claim reports whether t's spans are the caller's to make and end: true
// the first time only, and never for a request not traced.
func (t *tracedRequest) claim() bool {
	return t != nil && t.made.CompareAndSwap(false, true)
}

// ops makes t's two spans to be ended, when claim gives them; else nil.
func (t *tracedRequest) ops() (server, client *telemetry.Op) {
	if !t.claim() {
		return nil, nil
	}
	return t.pair.Ops(t.r, t.serverPeer)
}

// spanContext is the SERVER span's context, for the call log.
func (t *tracedRequest) spanContext() trace.SpanContext {
	if t == nil {
		return trace.SpanContext{}
	}
	return t.pair.SpanContext()
}

// untraced ends the spans of a request the tunnel relays but cannot time
// (its id already waits, or the table of requests is full): the spans
// are kept, so that the server's are not orphans, without a duration.
func untraced(c *reqExtra, at time.Time) {
	server, client := c.traced.ops()
	client.Discard(at)
	server.Discard(at)
}

// endTrace ends the spans of c, CLIENT then SERVER, with the outcome of
// the call recorded as mc (telemetry.Finish: off the call's way, when
// spans go out in batches). With payload capture on, a tool call's spans
// carry its arguments and result as the call log keeps them: redacted
// and cut, never as they came.
func (co *correlator[T]) endTrace(c *reqExtra, mc *monitor.Call, id uint64) {
	t := c.traced
	if !t.claim() {
		return // not traced, or its spans made already
	}
	out := telemetry.Outcome{End: mc.Start.Add(mc.Duration), ErrorType: mc.ErrorType, Message: mc.Error, Protocol: mc.Protocol}
	if mc.Method == monitor.MethodToolsCall {
		if p, ok := co.obs.Payloads.Get(id); ok {
			out.Arguments, out.Result = p.Arguments.String(), p.Result.String()
		}
	}
	co.obs.Telemetry.Finish(&t.pair, t.r, t.serverPeer, out)
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
