package tunnel

import (
	"context"
	"io"
	"net/http"
	"sync"
)

// handlerTransport is an http.RoundTripper that serves each request with
// a handler in this process, its response streamed back as it is written:
// a client in this process reaches the HTTP tunnel without a socket.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	pr, pw := io.Pipe()
	w := &pipeResponseWriter{header: http.Header{}, body: pw, ready: make(chan struct{})}
	// As under an http.Server, which a reverse proxy looks for: it then
	// aborts (panics with ErrAbortHandler) on a body cut short, instead
	// of ending it as if it were whole.
	req = req.WithContext(context.WithValue(req.Context(), http.ServerContextKey, inProcess))
	go func() {
		defer func() {
			p := recover()
			if p != nil && p != http.ErrAbortHandler {
				panic(p)
			}
			if p != nil {
				// The server's answer broke off, or the reader went:
				// the body ends in an error, not a clean end.
				w.WriteHeader(http.StatusBadGateway)
				_ = pw.CloseWithError(io.ErrUnexpectedEOF)
				return
			}
			w.WriteHeader(http.StatusOK) // a handler that wrote nothing
			_ = pw.Close()
		}()
		t.h.ServeHTTP(w, req)
	}()
	select {
	case <-w.ready:
	case <-req.Context().Done():
		_ = pr.CloseWithError(req.Context().Err())
		return nil, req.Context().Err()
	}
	return &http.Response{
		Status: http.StatusText(w.status), StatusCode: w.status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: w.sent, Body: pr, ContentLength: -1, Request: req,
	}, nil
}

// pipeResponseWriter writes a response into a pipe, its headers handed
// over once written.
type pipeResponseWriter struct {
	header http.Header
	body   *io.PipeWriter
	once   sync.Once
	ready  chan struct{}
	status int
	sent   http.Header
}

func (w *pipeResponseWriter) Header() http.Header { return w.header }

func (w *pipeResponseWriter) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		return // informational (103 Early Hints): the final status follows
	}
	w.once.Do(func() {
		w.status, w.sent = code, w.header.Clone()
		close(w.ready)
	})
}

func (w *pipeResponseWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

// Flush does nothing: every Write reaches the reader as it is made.
func (w *pipeResponseWriter) Flush() {}

// inProcess is the server the requests of a handlerTransport are served
// under, as far as handlers can tell.
var inProcess = &http.Server{}
