package tunnel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Bounds of what a session keeps for a GET stream that is not open.
const (
	maxQueued      = 1024
	maxQueuedBytes = 4 << 20
)

// A bridgeSession is one client's session: its child, run by a Stdio
// tunnel whose input is the client's POSTs and whose output is routed to
// the client's streams.
type bridgeSession struct {
	b   *Bridge
	id  string
	p   *Stdio
	in  *io.PipeWriter // the tunnel's input, the client's lines
	inR *io.PipeReader
	out lineSplitter // the tunnel's output

	inMu sync.Mutex // one message at a time into the pipe

	mu       sync.Mutex
	waiting  map[string]waiter        // the client's requests not answered, by raw id
	progress map[string]*bridgeStream // the open requests' progress tokens
	posts    []*bridgeStream          // open POST event streams, oldest first
	listener *bridgeStream            // the GET stream
	queue    [][]byte                 // the server's messages for a GET stream to come
	queued   int                      // their bytes
	dropped  int                      // messages lost to a full queue, not yet logged
	streams  int                      // streams open
	lastSeen time.Time
	closing  bool
	counted  bool // closed and counted in Bridge.ending; under the Bridge's lock

	done      chan struct{} // closed when the child is done for good
	closeOnce sync.Once
	stop      context.CancelFunc // the child's context: SIGTERM, then SIGKILL
}

// A waiter is a request of the client's waiting for its answer.
type waiter struct {
	st    *bridgeStream
	token string // its progress token, "" without one
}

func newBridgeSession(b *Bridge, id string) *bridgeSession {
	s := &bridgeSession{b: b, id: id, waiting: map[string]waiter{}, progress: map[string]*bridgeStream{},
		lastSeen: time.Now(), done: make(chan struct{})}
	s.inR, s.in = io.Pipe()
	s.out = lineSplitter{max: b.opts.MaxBodySize, onLine: s.fromServer, onLong: s.tooLong}
	return s
}

// tooLong answers the request a message too large to hold was the answer
// to, m as read in passing: the client must not wait for it.
func (s *bridgeSession) tooLong(m *message, n int) {
	s.b.log.Warn("a message of the MCP server's is too large for the HTTP client; dropped", "session", s.id, "bytes", n,
		"max_bytes", s.b.opts.MaxBodySize)
	if m == nil || m.kind() != kindResponse || m.idCut {
		return
	}
	s.route(m, appendErrorResponse(nil, m.ID, codeUpstreamExit,
		"the MCP server's answer is "+strconv.Itoa(n)+" bytes, more than the proxy holds ("+strconv.Itoa(s.b.opts.MaxBodySize)+"; --max-line-size)"))
}

// start runs the session's child; the session ends when it is done.
func (s *bridgeSession) start(ctx context.Context) error {
	opts := s.b.opts.Stdio
	opts.Stdin, opts.Stdout, opts.Session = s.inR, &s.out, s.id
	opts.Logger = opts.Logger.With("session", s.id)
	s.p = newStdio(s.b.meters, s.b.cmd, opts)
	ctx, s.stop = context.WithCancel(ctx)
	if err := s.p.Start(ctx); err != nil {
		s.stop()
		return err
	}
	s.b.wg.Go(func() {
		s.p.Wait()
		s.stop()
		s.b.forget(s)
		s.b.ended(s)
		s.mu.Lock()
		s.closing = true
		s.mu.Unlock()
		close(s.done) // every stream of the session ends
		_ = s.inR.CloseWithError(errSessionOver)
	})
	return nil
}

var errSessionOver = errors.New("the session is over")

// close ends the session: its child's input closes, as a stdio client
// ends a session; a child still running StopTimeout later is sent
// SIGTERM, and killed StopTimeout after that. It does not wait.
func (s *bridgeSession) close(why string) {
	s.closeOnce.Do(func() {
		s.b.log.Info("closing MCP session", "session", s.id, "reason", why)
		// Armed first: nothing below may keep a stuck child running.
		stop := time.AfterFunc(s.b.opts.Stdio.StopTimeout, s.stop)
		s.b.closing(s) // gone for new requests at once; it counts until its process ends
		s.mu.Lock()
		s.closing = true
		s.mu.Unlock()
		// Not under inMu: a write stuck on a child that no longer reads
		// holds it, and closing the pipe is what ends that write.
		_ = s.in.Close()
		s.b.wg.Go(func() {
			<-s.done
			stop.Stop()
		})
	})
}

// idleSince is how long the session has been without a request or an
// open stream.
func (s *bridgeSession) idleSince(now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.streams > 0 {
		return 0
	}
	return now.Sub(s.lastSeen)
}

func (s *bridgeSession) touch() {
	s.mu.Lock()
	s.lastSeen = time.Now()
	s.mu.Unlock()
}

// send writes the client's messages to the child, a line each. A child
// that stops reading its input blocks this; when ctx (the client's
// request) ends first, the session is closed, which ends the write: a
// server that no longer reads is of no use to its session.
func (s *bridgeSession) send(ctx context.Context, msgs [][]byte) error {
	unstuck := context.AfterFunc(ctx, func() { s.close("the MCP server stopped reading its input") })
	defer unstuck()
	s.inMu.Lock()
	defer s.inMu.Unlock()
	for _, m := range msgs {
		line := make([]byte, 0, len(m)+1)
		line = append(append(line, m...), '\n')
		if _, err := s.in.Write(line); err != nil {
			return err
		}
	}
	return nil
}

// open registers st as where the answers to its requests go. It returns
// the messages to send on: a request whose id is already waiting is
// answered here with an error instead, as the child could not tell the
// two answers apart.
func (s *bridgeSession) open(st *bridgeStream, msgs []message, raws [][]byte) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streams++
	if st.sse {
		s.posts = append(s.posts, st)
	}
	out := raws[:0:0]
	for i := range msgs {
		m := &msgs[i]
		if m.kind() != kindRequest {
			out = append(out, raws[i])
			continue
		}
		id := string(m.ID)
		if _, dup := s.waiting[id]; dup {
			st.pending++ // answered here, counted as the others
			st.answer(appendErrorResponse(nil, m.ID, -32600, "a request with id "+id+" is already in progress in this session"))
			continue
		}
		w := waiter{st: st, token: progressToken(raws[i])}
		if w.token != "" {
			s.progress[w.token] = st
		}
		s.waiting[id] = w
		st.pending++
		out = append(out, raws[i])
	}
	return out
}

// cancelled forgets a request of the client's that it cancelled: the
// server sends no answer to it (the tunnel drops a late one), and its
// stream must not wait for one.
func (s *bridgeSession) cancelled(id []byte) {
	s.mu.Lock()
	w, ok := s.waiting[string(id)]
	if ok {
		delete(s.waiting, string(id))
		if w.token != "" && s.progress[w.token] == w.st {
			delete(s.progress, w.token)
		}
	}
	s.mu.Unlock()
	if ok {
		w.st.forgo()
	}
}

// release forgets a stream whose handler returns.
func (s *bridgeSession) release(st *bridgeStream) {
	st.finish()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streams--
	s.lastSeen = time.Now()
	for i, p := range s.posts {
		if p == st {
			s.posts = append(s.posts[:i], s.posts[i+1:]...)
			break
		}
	}
	if s.listener == st {
		s.listener = nil
	}
}

// fromServer routes one line of the child's to the client.
func (s *bridgeSession) fromServer(line []byte) {
	line = bytes.TrimRight(line, "\r")
	if isBlank(line) {
		return
	}
	if bytes.IndexByte(line, '\r') >= 0 {
		// JSON white space, but a line break to an event stream.
		var b bytes.Buffer
		if json.Compact(&b, line) != nil {
			return
		}
		line = b.Bytes()
	}
	msgs, err := decode(line, nil)
	if err != nil {
		// Not JSON-RPC: no client could use it (the tunnel counted it).
		return
	}
	if len(msgs) == 1 {
		s.route(&msgs[0], line)
		return
	}
	var elems []json.RawMessage
	if json.Unmarshal(line, &elems) != nil || len(elems) != len(msgs) {
		return
	}
	for i := range msgs {
		s.route(&msgs[i], elems[i])
	}
}

func (s *bridgeSession) route(m *message, raw []byte) {
	raw = bytes.Clone(raw) // the line is the tunnel's buffer
	switch m.kind() {
	case kindResponse:
		s.mu.Lock()
		w, ok := s.waiting[string(m.ID)]
		if ok {
			delete(s.waiting, string(m.ID))
			if w.token != "" && s.progress[w.token] == w.st {
				delete(s.progress, w.token)
			}
		}
		s.mu.Unlock()
		if ok && w.st.answer(raw) {
			return
		}
		// Its POST is gone: the client may yet read it on its GET stream.
		s.toListener(raw)
	case kindNotification:
		if m.Method == "notifications/progress" {
			s.mu.Lock()
			st := s.progress[progressTokenOf(raw)]
			s.mu.Unlock()
			if st != nil && st.event(raw) {
				return
			}
		}
		s.toListener(raw)
	case kindRequest:
		s.toListener(raw)
	}
}

// toListener sends a message of the server's that answers no open POST:
// on the GET stream, else on an open POST stream, else it waits for a GET
// stream, in a bounded queue.
func (s *bridgeSession) toListener(raw []byte) {
	s.mu.Lock()
	candidates := make([]*bridgeStream, 0, 1+len(s.posts))
	if s.listener != nil {
		candidates = append(candidates, s.listener)
	}
	for i := len(s.posts) - 1; i >= 0; i-- {
		candidates = append(candidates, s.posts[i])
	}
	s.mu.Unlock()
	for _, st := range candidates {
		if st.event(raw) {
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, raw)
	s.queued += len(raw)
	for len(s.queue) > maxQueued || s.queued > maxQueuedBytes {
		s.queued -= len(s.queue[0])
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.dropped++
	}
	if s.dropped > 0 && s.dropped%100 == 1 {
		s.b.log.Warn("the MCP client keeps no stream open for the server's messages; the oldest are dropped", "session", s.id,
			"dropped", s.dropped)
	}
}

// listen serves the session's GET stream until the client or the session
// goes.
func (s *bridgeSession) listen(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.listener != nil {
		s.mu.Unlock()
		writeRPCError(w, http.StatusConflict, nil, -32600, "this session already has a GET stream open")
		return
	}
	st := newBridgeStream(w, true)
	s.listener = st
	s.streams++
	s.lastSeen = time.Now()
	queue := s.queue
	s.queue, s.queued = nil, 0
	s.mu.Unlock()
	defer s.release(st)
	st.start()
	for _, m := range queue {
		st.event(m)
	}
	keepalive := time.NewTicker(25 * time.Second)
	defer keepalive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		case <-keepalive.C:
			if !st.comment("keepalive") {
				return
			}
		}
	}
}

// progressToken is the progress token a request asks progress under, as
// raw JSON; "" without one. Read only from requests that name one.
func progressToken(raw []byte) string {
	if !bytes.Contains(raw, []byte(`"progressToken"`)) {
		return ""
	}
	var v struct {
		Params struct {
			Meta struct {
				Token json.RawMessage `json:"progressToken"`
			} `json:"_meta"`
		} `json:"params"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	return string(bytes.TrimSpace(v.Params.Meta.Token))
}

// progressTokenOf is the token a notifications/progress names.
func progressTokenOf(raw []byte) string {
	var v struct {
		Params struct {
			Token json.RawMessage `json:"progressToken"`
		} `json:"params"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	return string(bytes.TrimSpace(v.Params.Token))
}
