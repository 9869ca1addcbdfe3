package tunnel

import (
	"bytes"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"
)

// writeTimeout bounds a write to a client: one that stops reading its
// stream loses the stream, and holds up its session's relay no longer.
const writeTimeout = 30 * time.Second

// A bridgeStream is one HTTP response to the client: a POST's answers, as
// an event stream or, for a client that takes JSON only, one JSON body
// once all are in; or the session's GET event stream.
type bridgeStream struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	sse bool

	mu      sync.Mutex
	started bool
	closed  bool
	pending int      // requests of the POST not answered yet
	batch   bool     // the POST was a batch: its JSON answer is an array
	answers [][]byte // JSON mode: the answers so far
	done    chan struct{}
}

func newBridgeStream(w http.ResponseWriter, sse bool) *bridgeStream {
	return &bridgeStream{w: w, rc: http.NewResponseController(w), sse: sse, done: make(chan struct{})}
}

// start sends an event stream's headers, so that the client knows it is
// open before anything is on it.
func (st *bridgeStream) start() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.startLocked()
}

func (st *bridgeStream) startLocked() {
	if st.started || !st.sse {
		return
	}
	st.started = true
	h := st.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // a reverse proxy in front must not hold events back
	st.w.WriteHeader(http.StatusOK)
	_ = st.rc.Flush()
}

// event sends one message as an event; false when the stream is closed
// or is not an event stream.
func (st *bridgeStream) event(msg []byte) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.eventLocked(msg)
}

func (st *bridgeStream) eventLocked(msg []byte) bool {
	if st.closed || !st.sse {
		return false
	}
	st.startLocked()
	var b bytes.Buffer
	b.Grow(len(msg) + 22)
	b.WriteString("event: message\ndata: ")
	b.Write(msg) // one line: JSON-RPC as the server wrote it, its newline gone
	b.WriteString("\n\n")
	_ = st.rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := st.w.Write(b.Bytes()); err != nil {
		st.closeLocked()
		return false
	}
	if err := st.rc.Flush(); err != nil {
		st.closeLocked()
		return false
	}
	return true
}

// comment sends an SSE comment, which keeps idle connections open through
// proxies that close silent ones.
func (st *bridgeStream) comment(text string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return false
	}
	_ = st.rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := st.w.Write([]byte(": " + text + "\n\n")); err != nil {
		st.closeLocked()
		return false
	}
	return st.rc.Flush() == nil
}

// answer delivers the answer to one of the POST's requests; the stream
// ends with the last. False when the stream was closed: the client is
// gone.
func (st *bridgeStream) answer(msg []byte) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return false
	}
	st.pending--
	if st.sse {
		ok := st.eventLocked(msg)
		if ok && st.pending <= 0 {
			st.closeLocked()
		}
		return ok
	}
	st.answers = append(st.answers, msg)
	if st.pending > 0 {
		return true
	}
	st.writeJSONLocked()
	st.closeLocked()
	return true
}

// writeJSONLocked writes the answers as one JSON body: an array for a
// batch.
func (st *bridgeStream) writeJSONLocked() {
	body := st.answers[0]
	if st.batch || len(st.answers) > 1 {
		body = append(append([]byte{'['}, bytes.Join(st.answers, []byte{','})...), ']')
	}
	st.w.Header().Set("Content-Type", "application/json")
	st.w.WriteHeader(http.StatusOK)
	_ = st.rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, _ = st.w.Write(body)
}

// forgo gives up on one of the POST's requests, which the client
// cancelled: the stream ends when nothing else is awaited, with the
// answers it has (JSON), or none (202).
func (st *bridgeStream) forgo() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return
	}
	st.pending--
	if st.pending > 0 {
		return
	}
	if !st.sse {
		if len(st.answers) == 0 {
			st.w.WriteHeader(http.StatusAccepted)
		} else {
			st.writeJSONLocked()
		}
	}
	st.closeLocked()
}

// finish closes the stream for good: its handler returns.
func (st *bridgeStream) finish() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.closeLocked()
}

func (st *bridgeStream) closeLocked() {
	if !st.closed {
		st.closed = true
		close(st.done)
	}
}

// accepts reports whether r's Accept header takes mediaType (or anything).
func accepts(r *http.Request, mediaType string) bool {
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err == nil && (mt == mediaType || mt == "*/*") {
				return true
			}
		}
	}
	return false
}

// A lineSplitter is the tunnel's output as lines: each whole line is
// handed to onLine, without its newline; a line longer than max is
// dropped, read as it passes, and its message (nil when it is none) and
// size told to onLong.
type lineSplitter struct {
	max    int
	onLine func([]byte)
	onLong func(m *message, n int)
	buf    []byte
	long   int // bytes of a line being dropped; 0 when none
	ls     longScanner
	last   *message // the long line's message, its id copied
}

func (l *lineSplitter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			l.add(p)
			break
		}
		l.add(p[:i])
		if l.long > 0 {
			_ = l.ls.finish(l.keep)
			l.onLong(l.last, l.long)
			l.long, l.last = 0, nil
		} else {
			l.onLine(l.buf)
		}
		l.buf = l.buf[:0]
		p = p[i+1:]
	}
	return n, nil
}

func (l *lineSplitter) add(p []byte) {
	if l.long > 0 {
		l.long += len(p)
		l.ls.feed(p, l.keep)
		return
	}
	if len(l.buf)+len(p) > l.max {
		l.long = len(l.buf) + len(p)
		l.ls.reset()
		l.ls.feed(l.buf, l.keep)
		l.ls.feed(p, l.keep)
		l.buf = l.buf[:0]
		return
	}
	l.buf = append(l.buf, p...)
}

// keep keeps the message a long line holds, its id copied out of the
// scanner's buffers.
func (l *lineSplitter) keep(m *message) {
	c := *m
	c.ID = bytes.Clone(m.ID)
	l.last = &c
}
