package tunnel

import (
	"bytes"
	"net/http"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// A correlator matches requests to their responses in both directions,
// for either transport: it classifies each message the tunnel relays,
// keeps the requests awaiting an answer, counts what it cannot match, and
// records every request once, as a monitor.Call, when it is answered or
// given up on. T is what the transport keeps with a request (see call).
//
// The transports differ in where a message's requests wait and what
// happens around them; they tell the correlator through a hop per message
// and the few fields below, and act on the verdict it returns.
type correlator[T any] struct {
	meters *meters
	// c2s holds the client's requests where one table serves the whole
	// tunnel (stdio). An HTTP tunnel keeps each POST's requests with the
	// POST instead, since only its response answers them (hop.requests).
	c2s pendingTable[T]
	// s2c holds the server's requests to the client, keyed by session
	// and id (serverKey).
	s2c pendingTable[T]
	// cancellation makes a notifications/cancelled end the request it
	// names (stdio, where both directions share one table each; over
	// HTTP the notification is relayed and counted only).
	cancellation bool
	// notices, when set (HTTP), keep the client's cancellations for the
	// exchange of the request they name, which records it (cancelNotices).
	notices *cancelNotices
	// initialized is called with the server's successful answer to an
	// initialize request, the client's or the tunnel's replay of it;
	// listed with its answer to a tools/list, and when it came.
	initialized func(m *message, c *call[T])
	listed      func(c *call[T], at time.Time)
	// obs are fed the calls' details; clients remembers who each session
	// is, from its initialize.
	obs     Observers
	clients clients
	// maxRewrite bounds a request rewritten for tracing: the size the
	// transport holds of a line or body (0: no bound).
	maxRewrite int
}

// requestTable is where the client's requests wait: the correlator's c2s,
// or an HTTP POST's callSet.
type requestTable[T any] interface {
	add(id []byte, c call[T]) bool
	take(id []byte) (call[T], bool)
}

// A hop is what the transport knows of one message on its way.
type hop[T any] struct {
	now time.Time // when the message was read; a request's start
	// session scopes the server's request ids (HTTP's Mcp-Session-Id;
	// "" over stdio, where ids are unique for the whole tunnel).
	session string
	// requests is the table of the client's requests this message adds
	// to or answers.
	requests requestTable[T]
	// at is kept with a request this message makes.
	at T
	// alone says the message is all of its line, which can then be
	// dropped.
	alone bool
	// raw is the message's bytes when it is the whole of its line or
	// body, nil otherwise (a batch, a line too long to hold): sizes,
	// clients, tokens and payloads are read from it. They are the
	// transport's buffer, not yet relayed, and tracing may write its own
	// context over the sender's in a request's _meta there
	// (traceRequest): what must keep the bytes as they came (the
	// recording, the captured payload, the initialize kept for a replay)
	// is read or copied before.
	raw []byte
	// peer is the client's address, and header its request's headers
	// (HTTP), for its requests' spans.
	peer   string
	header http.Header
	// out is set by the correlator to the bytes to relay instead of the
	// line or body: the request with the trace context of its forwarding
	// in _meta, a copy, or raw itself when that was written over in place.
	out []byte
	// reply is set with the refuse verdict: the answer to give the
	// client instead of relaying the message.
	reply []byte
	// later, when set, takes what is left to do of the calls this
	// message answers once they are recorded: the transport hands them
	// to the observers and ends their spans (correlator.finish) after it
	// has relayed the answer, so that the client does not wait for them.
	// Nil: done at once.
	later *[]report
}

// A report is an answered call, recorded, whose observers and spans are
// still to be told.
type report struct {
	id  uint64
	mc  monitor.Call
	req reqExtra
	// raw is the answer, when an observer reads it: a copy, once the
	// report waits, since the transport's buffer is reused.
	raw []byte
}

// A verdict tells the transport what to do with a message's line.
type verdict uint8

const (
	// pass: relay it.
	pass verdict = iota
	// dropLine: drop it. It answers a request no one waits for any
	// more, and is alone on its line (counted in CounterDropped).
	dropLine
	// replayAnswered: it is the server's answer to the tunnel's own
	// replay of initialize. Its line, when it is alone there, is not the
	// client's to see; the transport lets the client's lines through to
	// the server again.
	replayAnswered
	// refuse: the client's request is not relayed; hop.reply answers it.
	refuse
)

// codeToolBlocked is the JSON-RPC error code of a call the tunnel refused
// to relay (Observers.Block).
const codeToolBlocked = -32010

// methodCancelled is the notification by which either side cancels a
// request it sent.
const methodCancelled = "notifications/cancelled"

func newCorrelator[T any](mt *meters, obs Observers) *correlator[T] {
	return &correlator[T]{meters: mt, obs: obs}
}

// fromClient does the bookkeeping for one message of the client's, about
// to go to the server.
func (co *correlator[T]) fromClient(m *message, h *hop[T]) verdict {
	switch m.kind() {
	case kindRequest:
		c := co.newCall(m, h)
		if reason := co.blocked(m, h); reason != "" {
			h.reply = appendErrorResponse(nil, m.ID, codeToolBlocked, reason)
			mc := co.callOf(&c, 0, ErrorTypeBlocked)
			mc.Error = reason
			id := co.meters.m.RecordCall(mc)
			co.obs.observe(id, &mc, &c.req, nil)
			return refuse
		}
		// After newCall: tracing may write over h.raw.
		h.out = co.traceRequest(m, h, &c, false)
		if m.idCut || !h.requests.add(m.ID, c) {
			co.meters.untracked.Inc()
			untraced(&c.req, h.now)
		}
	case kindNotification:
		co.meters.clientNotes.Inc()
		co.traceNotification(m, h, false)
		if co.cancellation && m.Method == methodCancelled {
			// The request is over for the client, which will not read an
			// answer to it: it is recorded now, and neither the server's
			// late answer nor the server's exit will answer it again.
			if c, ok := co.c2s.cancel(m.cancelID); ok {
				co.record(&c, h.now.Sub(c.start), monitor.ErrorTypeCancelled)
			}
		}
		if co.notices != nil && m.Method == methodCancelled && len(m.cancelID) > 0 {
			co.notices.put(serverKey(h.session, m.cancelID), h.now)
		}
	case kindResponse:
		c, ok := co.s2c.take(serverKey(h.session, m.ID))
		switch {
		case !ok:
			co.meters.unmatched.Inc()
		case c.state != waiting:
			// An answer to a server that has gone, whose successor did not
			// ask and may use the same id for another request; or to a
			// request the server cancelled.
			if h.alone {
				co.meters.dropped.Inc()
				return dropLine
			}
		default:
			co.recordFromServer(&c, h.now.Sub(c.start), m.errorType())
		}
	}
	return pass
}

// fromServer does the bookkeeping for one message of the server's, about
// to go to the client.
func (co *correlator[T]) fromServer(m *message, h *hop[T]) verdict {
	switch m.kind() {
	case kindRequest:
		c := call[T]{method: m.Method, start: h.now, session: h.session, at: h.at}
		h.out = co.traceRequest(m, h, &c, true)
		if m.idCut || !co.s2c.add(serverKey(h.session, m.ID), c) {
			co.meters.untracked.Inc()
			untraced(&c.req, h.now)
		}
	case kindNotification:
		co.meters.serverNotes.Inc()
		co.traceNotification(m, h, true)
		// Either transport: the server's requests wait in one table,
		// keyed by session, and a client that follows the protocol does
		// not answer a request the server cancelled.
		if m.Method == methodCancelled {
			if c, ok := co.s2c.cancel(serverKey(h.session, m.cancelID)); ok {
				co.recordFromServer(&c, h.now.Sub(c.start), monitor.ErrorTypeCancelled)
			}
		}
	case kindResponse:
		c, ok := h.requests.take(m.ID)
		switch {
		case !ok:
			co.meters.unmatched.Inc()
		case c.state == cancelled:
			// The server answered although the client had cancelled: the
			// answer raced the cancellation, or the server ignores it. The
			// client has given up on the id and would see an answer to an
			// unknown request.
			if h.alone {
				co.meters.dropped.Inc()
				return dropLine
			}
		case c.state == replaying:
			co.noteInitialize(m, &c)
			return replayAnswered
		default:
			if at, ok := co.cancelledAt(h.session, m.ID); ok {
				co.record(&c, at.Sub(c.start), monitor.ErrorTypeCancelled)
				break
			}
			co.noteInitialize(m, &c)
			co.answered(m, h, &c)
		}
	}
	return pass
}

// blocked is why the tools/call m is not to be relayed, "" when it is:
// only a message that is its line or body whole can be held back.
func (co *correlator[T]) blocked(m *message, h *hop[T]) string {
	if co.obs.Block == nil || m.Method != monitor.MethodToolsCall || h.raw == nil || m.idCut {
		return ""
	}
	return co.obs.Block(m.toolName())
}

// cancelledAt reports when the client cancelled its request id of
// session, if it did and the cancellation is waiting (HTTP).
func (co *correlator[T]) cancelledAt(session string, id []byte) (time.Time, bool) {
	if co.notices == nil {
		return time.Time{}, false
	}
	return co.notices.take(serverKey(session, id))
}

// settle records a request of the client's that got no answer, with
// errType, unless the client had cancelled it: then as cancelled, as of
// its notice.
func (co *correlator[T]) settle(session, id string, c *call[T], now time.Time, errType string) {
	if at, ok := co.cancelledAt(session, []byte(id)); ok {
		co.record(c, at.Sub(c.start), monitor.ErrorTypeCancelled)
		return
	}
	co.record(c, now.Sub(c.start), errType)
}

// answered records a request of the client's that the server answered
// with m, and hands it to the observers.
func (co *correlator[T]) answered(m *message, h *hop[T], c *call[T]) {
	if c.session == "" {
		c.session = h.session // an HTTP initialize learns its session from the answer
	}
	if c.method == "initialize" && m.hasResult {
		co.clients.set(c.session, c.req.client, m.protocolVersionOf())
	}
	if c.method == "tools/list" && m.hasResult && co.listed != nil {
		co.listed(c, h.now)
	}
	co.obs.listed(c.method, &c.req, h.raw, h.now)
	mc := co.callOf(c, h.now.Sub(c.start), m.errorType())
	mc.ResponseBytes = int64(len(h.raw))
	if mc.ErrorType != "" && h.raw != nil {
		mc.Error = failureText(h.raw)
	}
	if c.method == "initialize" {
		mc.Protocol = m.protocolVersionOf()
	}
	// The counters and the call log's ring are told at once, as the
	// catalogue was above (Observers.listed): what reads them after the
	// client has its answer finds the call there.
	r := report{id: co.meters.m.RecordCall(mc), mc: mc, req: c.req, raw: h.raw}
	if h.later == nil {
		co.finish(&r)
		return
	}
	if !co.obs.readsAnswer(mc.Method) {
		r.raw = nil
	} else {
		r.raw = bytes.Clone(r.raw)
	}
	*h.later = append(*h.later, r)
}

// finish hands an answered call to the observers and ends its spans.
func (co *correlator[T]) finish(r *report) {
	co.obs.observe(r.id, &r.mc, &r.req, r.raw)
	co.endTrace(&r.req, &r.mc, r.id)
}

// finishAll finishes the reports that wait in later (hop.later), once
// their answers are relayed, and empties it.
func (co *correlator[T]) finishAll(later *[]report) {
	for i := range *later {
		co.finish(&(*later)[i])
	}
	clear(*later)
	*later = (*later)[:0]
}

// noteInitialize hands a successful answer to initialize to the
// transport.
func (co *correlator[T]) noteInitialize(m *message, c *call[T]) {
	if c.method == "initialize" && m.hasResult && co.initialized != nil {
		co.initialized(m, c)
	}
}

// newCall is the client's request m, on its hop h.
func (co *correlator[T]) newCall(m *message, h *hop[T]) call[T] {
	c := call[T]{method: m.Method, start: h.now, at: h.at, session: h.session}
	if m.Method == monitor.MethodToolsCall {
		c.tool = m.toolName()
	}
	if raw := h.raw; raw != nil {
		c.req.bytes = int64(len(raw))
		switch m.Method {
		case "initialize":
			c.req.client = initializeParams(raw)
		case "tools/list":
			c.req.laterPage = co.obs.Catalog != nil && hasCursor(raw)
		}
		if co.obs.Payloads != nil {
			c.req.args = requestParams(m.Method, raw)
		}
	}
	return c
}

// record times a request of the client's that got no answer as a
// monitor.Call: per method, and per tool for tools/call.
func (co *correlator[T]) record(c *call[T], d time.Duration, errType string) {
	mc := co.callOf(c, d, errType)
	id := co.meters.m.RecordCall(mc)
	co.obs.observe(id, &mc, &c.req, nil)
	co.endTrace(&c.req, &mc, id)
}

// recordFromServer records a request the server sent to the client.
func (co *correlator[T]) recordFromServer(c *call[T], d time.Duration, errType string) {
	mc := co.callOf(c, d, errType)
	mc.FromServer = true
	id := co.meters.m.RecordCall(mc)
	co.endTrace(&c.req, &mc, id)
}

func (co *correlator[T]) callOf(c *call[T], d time.Duration, errType string) monitor.Call {
	return monitor.Call{
		Start:        c.start,
		Duration:     d,
		Method:       c.method,
		Tool:         c.tool,
		Session:      c.session,
		Client:       co.clients.get(c.session),
		Transport:    co.meters.transport,
		ErrorType:    errType,
		RequestBytes: c.req.bytes,
		TraceID:      c.req.traced.spanContext().TraceID(),
		SpanID:       c.req.traced.spanContext().SpanID(),
	}
}

// serverKey keys the server's requests: ids are unique within a session
// only. Without a session the id is the key.
func serverKey(session string, id []byte) []byte {
	if session == "" {
		return id
	}
	k := make([]byte, 0, len(session)+1+len(id))
	k = append(k, session...)
	k = append(k, 0)
	return append(k, id...)
}
