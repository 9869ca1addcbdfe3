package mcpserver

import (
	"bufio"
	"bytes"
	"io"
	"mime"
	"net/http"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/sse"
)

// maxClassify bounds what is kept of one event of a response stream to
// tell a response from a notification; a longer event is only measured.
const maxClassify = 64 << 10

// sized measures each POST's message and the response sent for it, for
// the call the metrics middleware records (see exchange). A body holding a
// batch is not measured: its size is no one request's.
type sized struct{ next http.Handler }

func (h sized) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Body == nil {
		h.next.ServeHTTP(w, r)
		return
	}
	ex := &exchange{peer: r.RemoteAddr, id: requestIDText(peekHead(r))}
	key := headerKey(r.Header)
	exchanges.Store(key, ex)
	defer exchanges.Delete(key)
	r.Body = &countedBody{ReadCloser: r.Body, ex: ex}
	sw := &sizedWriter{ResponseWriter: w, ex: ex}
	h.next.ServeHTTP(sw, r)
	sw.finish()
}

// countedBody counts a request body as the SDK reads it, trimmed of the
// white space around the message.
type countedBody struct {
	io.ReadCloser
	ex      *exchange
	started bool  // a byte other than white space was read
	n       int64 // bytes from the first that is not white space to the last
	space   int64 // white space read after the last byte that is not
}

func (b *countedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	chunk := p[:n]
	if !b.started {
		chunk = bytes.TrimLeft(chunk, jsonSpace)
		if len(chunk) > 0 {
			b.started = true
			b.ex.batch.Store(chunk[0] == '[')
		}
	}
	if core := bytes.TrimRight(chunk, jsonSpace); len(core) > 0 {
		b.n += b.space + int64(len(core))
		b.space = int64(len(chunk) - len(core))
	} else {
		b.space += int64(len(chunk))
	}
	b.ex.request.Store(b.n)
	return n, err
}

// jsonSpace is the white space JSON allows around a value.
const jsonSpace = " \t\r\n"

// sizedWriter measures the response message in what the SDK writes: the
// JSON body, or the last event of the stream, which the server sends once
// the request is answered (notifications and requests of its own may come
// before it).
type sizedWriter struct {
	http.ResponseWriter
	ex     *exchange
	status int
	kind   string // the body's media type, known at the first write
	sc     *sse.Scanner
	body   int64 // bytes of a JSON body
	last   int64 // size of the stream's last event, if it is a response
}

func (w *sizedWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *sizedWriter) Write(p []byte) (int, error) {
	if w.kind == "" {
		w.kind, _, _ = mime.ParseMediaType(w.Header().Get("Content-Type"))
		if w.kind == "text/event-stream" {
			w.sc = &sse.Scanner{
				Max: maxClassify,
				OnEvent: func(data []byte) {
					w.last = 0
					if _, ok := responseID(data); ok {
						w.last = int64(len(bytes.TrimSpace(data)))
					}
				},
				// Too long to read, and so most likely the result; it is
				// the answer if the stream ends with it.
				OnLarge: func(size int) { w.last = int64(size) },
			}
		}
	}
	n, err := w.ResponseWriter.Write(p)
	switch {
	case w.sc != nil:
		w.sc.Scan(p[:n])
	case w.kind == "application/json":
		w.body += int64(len(bytes.TrimSpace(p[:n])))
	}
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's flusher.
func (w *sizedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *sizedWriter) finish() {
	if w.status != 0 && w.status != http.StatusOK {
		return
	}
	switch {
	case w.sc != nil:
		w.ex.respond(w.last)
	case w.kind == "application/json":
		w.ex.respond(w.body)
	}
}

// maxHead is what is read ahead of a request body for its id.
const maxHead = 256

// peekHead returns the first bytes of r's body, which it leaves to be
// read again whole.
func peekHead(r *http.Request) []byte {
	br := bufio.NewReaderSize(r.Body, maxHead)
	h, _ := br.Peek(maxHead)
	r.Body = struct {
		io.Reader
		io.Closer
	}{br, r.Body}
	return h
}
