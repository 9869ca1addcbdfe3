package tunnel

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/record"
)

// codeUpstreamExit is the JSON-RPC error code of the responses the tunnel
// writes for requests the server can no longer answer: -32000 is the first
// of the range JSON-RPC leaves to implementations.
const codeUpstreamExit = -32000

// relayClient relays the client's lines to the running child until the
// client closes its side or ctx ends.
func (p *Stdio) relayClient(ctx context.Context) {
	lr := newLineReader(p.opts.Stdin, p.opts.MaxLineSize)
	var (
		msgs []message
		ls   longScanner
		w    *bufio.Writer // the child's stdin, while a long line holds it
		gen  uint64        // that child's
		skip bool          // the rest of a long line goes nowhere
		long int           // the long line's size so far
	)
	for {
		pc, err := lr.next()
		switch {
		case pc.long: // its last piece may be empty, at end of input
			if pc.first {
				p.meters.oversized.Inc()
				skip, long = false, 0
				var lerr error
				if w, gen, lerr = p.up.lock(ctx); lerr != nil {
					return
				}
			}
			// A piece is read before it is written, so that a request
			// it ends is pending before the child can answer it.
			now := time.Now()
			p.readLong(&ls, pc, func(m *message) {
				if skip && m.kind() == kindRequest {
					p.unsent(m, now)
					return
				}
				p.clientMessage(m, nil, now, gen)
			})
			if !skip {
				_, _ = w.Write(pc.data)
				if werr := w.Flush(); werr != nil {
					// The child is gone: let its exit be handled now,
					// not when the client ends the line.
					skip = true
					p.up.downLocked()
					p.up.unlock()
				}
			}
			if long += len(pc.data); pc.last {
				p.opts.Observers.omitted(now, record.ToServer, "", long)
			}
			if pc.last && !skip {
				p.up.unlock()
			}
		case len(pc.data) == 0:
		default:
			var lerr error
			if msgs, lerr = p.fromClient(ctx, pc.data, msgs, lr.more()); lerr != nil {
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				p.log.Info("the client closed its input; closing the upstream MCP server's")
			} else {
				p.log.Warn("reading the client's input failed; closing the upstream MCP server's", "error", err)
			}
			p.up.closeInput()
			p.mu.Lock()
			if p.proc == nil {
				p.wakeLocked() // no child to wait for: Run ends
			}
			p.mu.Unlock()
			return
		}
	}
}

// fromClient interprets and relays one line of the client's; more says
// another is waiting. It returns an error only when ctx ended while the
// line waited for a child.
func (p *Stdio) fromClient(ctx context.Context, line []byte, msgs []message, more bool) ([]message, error) {
	now := time.Now()
	p.opts.Observers.record(now, record.ToServer, p.opts.Session, line)
	msgs, err := decode(line, msgs)
	if err != nil && !isBlank(line) {
		p.meters.malformed.Inc()
	}
	w, gen, err := p.up.lock(ctx)
	if err != nil {
		return msgs, err
	}
	defer p.up.unlock()
	whole := line // the line is one message, which a replay may need
	if len(msgs) != 1 {
		whole = nil
	}
	drop := false
	var out []byte
	for i := range msgs {
		d, o := p.clientMessage(&msgs[i], whole, now, gen)
		drop = d || drop
		if o != nil {
			out = o
		}
	}
	switch {
	case drop:
	case out != nil:
		_, _ = w.Write(out) // the trace context of the forwarding in _meta
	default:
		_, _ = w.Write(line)
	}
	if !more {
		if w.Flush() != nil {
			// The child exited: down answers the requests.
			p.up.downLocked()
		}
	}
	return msgs, nil
}

// stdioCall is what the stdio tunnel keeps with a request.
type stdioCall struct {
	// gen is the child the request went to or came from.
	gen uint64
	// line is kept for the client's initialize only, to replay it to a
	// restarted child once it has succeeded.
	line []byte
}

// clientMessage does the bookkeeping for one message of the client's, about
// to be written to child gen. whole is the line when the message is all of
// it, nil otherwise: an initialize request and notifications/initialized
// are kept from it for a replay, and only a whole line can be dropped. It
// reports whether the line is to be dropped: it answers a request that its
// child can no longer take; and the line to write instead, when tracing
// rewrote it.
func (p *Stdio) clientMessage(m *message, whole []byte, now time.Time, gen uint64) (drop bool, out []byte) {
	h := hop[stdioCall]{now: now, session: p.opts.Session, requests: &p.corr.c2s, at: stdioCall{gen: gen}, alone: whole != nil, raw: whole}
	if whole != nil {
		switch m.Method {
		case "initialize":
			if m.kind() == kindRequest {
				h.at.line = bytes.Clone(whole)
			}
		case "notifications/initialized":
			if m.kind() == kindNotification {
				p.replay.mu.Lock()
				p.replay.initialized = bytes.Clone(whole)
				p.replay.mu.Unlock()
			}
		}
	}
	switch p.corr.fromClient(m, &h) {
	case dropLine:
		return true, nil
	case refuse:
		if err := p.out.own(append(h.reply, '\n')); err != nil {
			p.log.Warn("answering a blocked call failed", "error", err)
		}
		return true, nil
	}
	return false, h.out
}

// relayServer relays the child's lines to the client until the child's
// output ends.
func (p *Stdio) relayServer(ch *child) {
	defer p.report(ch)
	lr := newLineReader(ch.stdout, p.opts.MaxLineSize)
	var (
		msgs    []message
		ls      longScanner
		holding bool // the client's output, for a long line
		drop    bool // the long line goes nowhere
		long    int  // the long line's size so far
	)
	for {
		pc, err := lr.next()
		switch {
		case pc.long:
			if pc.first {
				p.meters.oversized.Inc()
				long = 0
				// Until the child has answered the replayed initialize,
				// a long line may be that answer, which the client must
				// not see and which cannot be held until it is known.
				if drop = ch.replaying; drop {
					p.meters.dropped.Inc()
				} else {
					p.out.lock()
					holding = true
				}
			}
			now := time.Now()
			p.readLong(&ls, pc, func(m *message) { _, _ = p.serverMessage(ch, m, now, nil) })
			if !drop {
				_ = p.out.writeLocked(pc.data)
			}
			p.report(ch)
			if long += len(pc.data); pc.last {
				p.opts.Observers.omitted(now, record.ToClient, "", long)
			}
			if pc.last && holding {
				p.out.unlock()
				holding = false
			}
		case len(pc.data) == 0:
		default:
			msgs = p.fromServer(ch, pc.data, msgs, lr.more())
		}
		if err != nil {
			if holding {
				p.out.unlock()
			}
			return
		}
	}
}

// readLong reads a piece of a line too long to hold, handing the messages
// it ends to emit; at the line's end it counts a line that is no JSON-RPC
// message.
func (p *Stdio) readLong(ls *longScanner, pc piece, emit func(*message)) {
	if pc.first {
		ls.reset()
	}
	ls.feed(pc.data, emit)
	if pc.last {
		if err := ls.finish(emit); err != nil && !errors.Is(err, errBlank) {
			p.meters.malformed.Inc()
		}
	}
}

// unsent answers a request of the client's whose line the child exited
// while it was being written: no child has it whole, and none will.
func (p *Stdio) unsent(m *message, now time.Time) {
	c := p.corr.newCall(m, &hop[stdioCall]{now: now, session: p.opts.Session})
	p.corr.record(&c, 0, ErrorTypeUpstreamExit)
	if m.idCut {
		return // no id to answer with
	}
	if err := p.out.own(errorResponse(m.ID, codeUpstreamExit, "upstream MCP server exited")); err != nil {
		p.log.Warn("answering a request after the upstream MCP server exited failed", "error", err)
	}
}

// fromServer interprets and relays one line of the child's; more says
// another is waiting.
func (p *Stdio) fromServer(ch *child, line []byte, msgs []message, more bool) []message {
	now := time.Now()
	p.opts.Observers.record(now, record.ToClient, p.opts.Session, line)
	msgs, err := decode(line, msgs)
	if err != nil && !isBlank(line) {
		p.meters.malformed.Inc()
	}
	drop := false
	var whole, out []byte // the line when it is one message; what to write instead
	if len(msgs) == 1 {
		whole = line
	}
	for i := range msgs {
		d, o := p.serverMessage(ch, &msgs[i], now, whole)
		drop = d || drop
		if o != nil {
			out = o
		}
	}
	switch {
	case drop:
		line = nil
	case out != nil:
		line = out // the trace context of the forwarding in _meta
	}
	_ = p.out.line(line, more) // a client that stopped reading has gone; its end of input ends the run
	if !more {
		// Written out: the lines held for the next are not, and their
		// calls wait with them (the relay's end reports what is left).
		p.report(ch)
	}
	return msgs
}

// report finishes the answered calls of ch's lines that wait
// (child.later), once their lines are written.
func (p *Stdio) report(ch *child) { p.corr.finishAll(&ch.later) }

// serverMessage does the bookkeeping for one message of child ch's, about
// to be written to the client; whole is its line when it is all of it
// (which only then can be dropped, or rewritten), else nil. It reports
// whether the line is to be dropped: it answers the tunnel's replayed
// initialize, or a request the client cancelled; and the line to write
// instead, when tracing rewrote it.
func (p *Stdio) serverMessage(ch *child, m *message, now time.Time, whole []byte) (drop bool, out []byte) {
	alone := whole != nil
	h := hop[stdioCall]{now: now, session: p.opts.Session, requests: &p.corr.c2s, at: stdioCall{gen: ch.gen}, alone: alone, raw: whole, later: &ch.later}
	switch p.corr.fromServer(m, &h) {
	case dropLine:
		return true, nil
	case replayAnswered:
		p.replayed(ch, m)
		return alone, nil
	}
	return false, h.out
}

// initialized notes the server's initialize result and keeps the client's
// request for a replay once it has succeeded.
func (p *Stdio) initialized(m *message, c *call[stdioCall]) {
	if c.at.line != nil {
		p.replay.mu.Lock()
		p.replay.init, p.replay.id = c.at.line, bytes.Clone(m.ID)
		p.replay.mu.Unlock()
	}
	impl, version := m.serverInfoOf(), m.protocolVersionOf()
	now := time.Now()
	p.info.update(func(i *Info) {
		i.Server, i.ProtocolVersion = &impl, version
		if started := p.startedOf(c.at.gen); !started.IsZero() && i.ColdStart == nil {
			i.ColdStart = &ColdStart{InitializeMs: msSince(started, now), from: started}
		}
	})
	p.log.Info("upstream MCP server initialized", "server_name", impl.Name, "server_version", impl.Version,
		"protocol_version", version)
}

// listed times the child's first tools/list answer from its start.
func (p *Stdio) listed(c *call[stdioCall], at time.Time) {
	if p.startedOf(c.at.gen).IsZero() {
		return // an answer of a child that is gone
	}
	p.info.update(func(i *Info) { i.ColdStart = i.ColdStart.listedAt(at) })
}

// startedOf is when child gen started, zero unless it is the latest.
func (p *Stdio) startedOf(gen uint64) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if gen != p.gen {
		return time.Time{}
	}
	return p.started
}
