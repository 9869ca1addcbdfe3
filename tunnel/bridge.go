package tunnel

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// A Bridge serves an MCP server that speaks stdio to clients of
// Streamable HTTP: each client session gets a child of its own, run and
// measured by a Stdio tunnel as "proxy -- COMMAND" runs one.
//
// One child per session, not one shared by all, because MCP is a
// conversation with state: each client's initialize (its capabilities,
// its protocol version) must reach a server that answers that client
// alone, the server's requests to a client (sampling, elicitation, roots)
// must go to the client that can answer, and its subscriptions and log
// level are per session. A shared child would answer a second client's
// initialize with the first one's agreement, and could not say whose
// sampling request is whose. The cost is a process per session, whose
// start is timed (cold_start) and bounded (MaxSessions).
//
// Messages are routed as the transport asks: the answer to a request on
// the POST that carried it; a progress notification on the POST of the
// request whose progressToken it names, while that is open; the server's
// other requests and notifications on the session's GET stream, or, with
// none open, on an open POST, or kept (up to maxQueued) until a GET opens.
type Bridge struct {
	cmd    Command
	opts   BridgeOptions
	meters *meters
	log    *slog.Logger

	mu       sync.Mutex
	ctx      context.Context // the children's, from Start
	sessions map[string]*bridgeSession
	ending   int    // sessions closed whose process has not ended yet
	last     *Stdio // the newest session's tunnel, for Info
	closed   bool
	stop     chan struct{}  // closed by Close: the sweeper ends
	wg       sync.WaitGroup // the sessions' tunnels and the sweeper
}

// BridgeOptions configure a Bridge. The zero value serves /mcp, runs the
// children as StdioOptions' zero value does (their stderr to this
// process's), and allows 32 sessions, each closed after 30 minutes with
// no request and no stream open.
type BridgeOptions struct {
	// Endpoint is the path served; default "/mcp".
	Endpoint string
	// Stdio configures each session's tunnel; its Stdin, Stdout and
	// Session are the bridge's own.
	Stdio StdioOptions
	// MaxSessions bounds the sessions, and so the children, at once;
	// default DefaultMaxBridgeSessions.
	MaxSessions int
	// IdleTimeout closes a session (and ends its child) that has had no
	// request and no open stream for this long; default
	// DefaultBridgeIdleTimeout.
	IdleTimeout time.Duration
	// MaxBodySize bounds a POST body and a message of the server's held
	// for the client; default DefaultBridgeMaxBody. A larger answer is
	// replaced by an error answer to its request.
	MaxBodySize int
}

// Defaults of BridgeOptions.
const (
	DefaultMaxBridgeSessions = 32
	DefaultBridgeIdleTimeout = 30 * time.Minute
	DefaultBridgeMaxBody     = 16 << 20
)

// NewBridge returns a bridge that runs cmd for each session, timing the
// requests into m. It registers the gauge upstream_up, as NewStdio does:
// 1 once a child has started, 0 after a child exited by itself (not at
// the end of its session) until another starts.
func NewBridge(m *monitor.Monitor, cmd Command, opts BridgeOptions) (*Bridge, error) {
	if cmd.Path == "" {
		return nil, errors.New("tunnel: no command to run")
	}
	mt, err := newMeters(m, monitor.TransportHTTP)
	if err != nil {
		return nil, fmt.Errorf("registering tunnel metrics: %w", err)
	}
	mt.pooled = true
	if opts.Endpoint == "" {
		opts.Endpoint = "/mcp"
	}
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = DefaultMaxBridgeSessions
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultBridgeIdleTimeout
	}
	if opts.MaxBodySize <= 0 {
		opts.MaxBodySize = DefaultBridgeMaxBody
	}
	opts.Stdio = opts.Stdio.withDefaults()
	return &Bridge{cmd: cmd, opts: opts, meters: mt, log: opts.Stdio.Logger, sessions: map[string]*bridgeSession{}, stop: make(chan struct{})}, nil
}

// Start readies the bridge: children run until ctx ends or Close. Idle
// sessions are closed from here on.
func (b *Bridge) Start(ctx context.Context) {
	b.mu.Lock()
	b.ctx = ctx
	b.mu.Unlock()
	b.wg.Go(func() { b.sweep(ctx) })
}

// Close ends every session, stopping their children, and waits for them.
// Requests after it are refused.
func (b *Bridge) Close() {
	b.mu.Lock()
	if !b.closed {
		close(b.stop)
	}
	b.closed = true
	all := make([]*bridgeSession, 0, len(b.sessions))
	for _, s := range b.sessions {
		all = append(all, s)
	}
	b.mu.Unlock()
	for _, s := range all {
		s.close("the proxy stops")
	}
	b.wg.Wait()
}

// Info describes the server as the newest session's tunnel knows it, with
// the number of sessions open.
func (b *Bridge) Info() Info {
	b.mu.Lock()
	last, n := b.last, len(b.sessions)
	b.mu.Unlock()
	i := Info{Transport: "stdio", Command: b.cmd.Path}
	if last != nil {
		i = last.Info()
	}
	i.Bridge, i.Sessions = true, n
	// Up is the pool's: a child started, and none exited by itself
	// since. Before the first session it is not known (Ready says so).
	i.Up = b.meters.up.Load() == upYes
	return i
}

// sweep closes the sessions idle for longer than IdleTimeout.
func (b *Bridge) sweep(ctx context.Context) {
	every := max(min(b.opts.IdleTimeout/4, time.Minute), time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.stop:
			return
		case now := <-t.C:
			b.mu.Lock()
			var idle []*bridgeSession
			for _, s := range b.sessions {
				if s.idleSince(now) > b.opts.IdleTimeout {
					idle = append(idle, s)
				}
			}
			b.mu.Unlock()
			for _, s := range idle {
				s.close("idle for " + b.opts.IdleTimeout.String()) // does not block: a stuck session stalls no sweep
			}
		}
	}
}

// session returns the open session id names.
func (b *Bridge) session(id string) *bridgeSession {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sessions[id]
}

// newSession starts a session and its child.
func (b *Bridge) newSession() (*bridgeSession, error) {
	b.mu.Lock()
	switch {
	case b.closed || b.ctx == nil:
		b.mu.Unlock()
		return nil, errBridgeClosed
	case len(b.sessions)+b.ending >= b.opts.MaxSessions:
		b.mu.Unlock()
		return nil, errTooManySessions
	}
	ctx := b.ctx
	s := newBridgeSession(b, rand.Text())
	b.sessions[s.id] = s
	b.mu.Unlock()
	if err := s.start(ctx); err != nil {
		b.forget(s)
		return nil, err
	}
	b.mu.Lock()
	b.last = s.p
	b.mu.Unlock()
	return s, nil
}

// closing takes a session that is closing from the table: new requests
// do not find it, but its process counts against MaxSessions until it
// ends (ended).
func (b *Bridge) closing(s *bridgeSession) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sessions[s.id] == s {
		delete(b.sessions, s.id)
		s.counted = true
		b.ending++
	}
}

// ended notes that a session's process has ended.
func (b *Bridge) ended(s *bridgeSession) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s.counted {
		s.counted = false
		b.ending--
	}
}

// forget removes an ended session.
func (b *Bridge) forget(s *bridgeSession) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sessions[s.id] == s {
		delete(b.sessions, s.id)
	}
}

var (
	errBridgeClosed    = errors.New("the proxy is stopping")
	errTooManySessions = errors.New("too many sessions")
)

// ServeHTTP serves the endpoint: POST carries the client's messages, GET
// opens the session's stream of the server's, DELETE ends the session.
func (b *Bridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != b.opts.Endpoint {
		writeRPCError(w, http.StatusNotFound, nil, -32600, "no MCP endpoint at "+r.URL.Path+"; it is at "+b.opts.Endpoint)
		return
	}
	switch r.Method {
	case http.MethodPost:
		b.post(w, r)
	case http.MethodGet:
		b.get(w, r)
	case http.MethodDelete:
		b.delete(w, r)
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		writeRPCError(w, http.StatusMethodNotAllowed, nil, -32600, "method "+r.Method+" not allowed; use POST, GET or DELETE")
	}
}

// sessionOf returns the session r names, or answers r and returns nil.
func (b *Bridge) sessionOf(w http.ResponseWriter, r *http.Request) *bridgeSession {
	id := r.Header.Get(headerSession)
	if id == "" {
		writeRPCError(w, http.StatusBadRequest, nil, -32600, "missing "+headerSession+" header: initialize first")
		return nil
	}
	s := b.session(id)
	if s == nil {
		// As the transport says: the client starts a new session.
		writeRPCError(w, http.StatusNotFound, nil, -32001, "session not found: it ended, or never was; initialize again")
		return nil
	}
	return s
}

func (b *Bridge) get(w http.ResponseWriter, r *http.Request) {
	if !accepts(r, "text/event-stream") {
		writeRPCError(w, http.StatusNotAcceptable, nil, -32600, "a GET opens an event stream: Accept must include text/event-stream")
		return
	}
	if s := b.sessionOf(w, r); s != nil {
		s.listen(w, r)
	}
}

func (b *Bridge) delete(w http.ResponseWriter, r *http.Request) {
	if s := b.sessionOf(w, r); s != nil {
		s.close("the client ended it")
		w.WriteHeader(http.StatusNoContent)
	}
}
