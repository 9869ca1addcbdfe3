package tunnel

import (
	"context"
	"io"
	"net/http"
	"net/textproto"
	"strings"
)

// maxLeanBody bounds the POST bodies sent by h1Client. The request is
// written whole before the response is read: a body this small fits in the
// socket's buffers even if the server answers before reading it, where a
// larger one could block the write. Larger bodies go through the
// ReverseProxy, whose Transport writes and reads at once.
const maxLeanBody = 64 << 10

// lean reports whether the POST r, with a body of n bytes, takes the lean
// path (post). The other requests need what only the ReverseProxy does: a
// protocol upgrade, an Expect: 100-continue to wait on, or a query string
// to clean.
func (h *HTTP) lean(r *http.Request, n int) bool {
	return h.h1 != nil && n <= maxLeanBody && r.URL.RawQuery == "" &&
		r.Header["Expect"] == nil && r.Header["Upgrade"] == nil
}

// post forwards a POST whose body has been read, and relays the response,
// as the ReverseProxy would (same headers out and back, same errors, no
// event held back) but on h1Client and without the ReverseProxy's
// per-request work: cloning the request, its context, a trace.
func (h *HTTP) post(w http.ResponseWriter, r *http.Request, ex *exchange, body []byte) {
	on1xx := func(code int, hdr http.Header) {
		dst := w.Header()
		copyHeader(dst, hdr)
		w.WriteHeader(code)
		clear(dst) // WriteHeader leaves an interim response's headers
	}
	res, err := h.h1.roundTrip(r.Context(), outHeader(r.Header, h.header), body, on1xx)
	if err != nil {
		h.proxyError(w, r, ex, err)
		return
	}
	if res.StatusCode == http.StatusSwitchingProtocols {
		res.Body.Close()
		h.proxyError(w, r, ex, errUnaskedUpgrade)
		return
	}
	removeHopByHop(res.Header)
	raw := res.Body // the taps read through it
	h.tap(ex, res)
	dst := w.Header()
	for k, vv := range res.Header {
		if dst[k] == nil {
			dst[k] = vv // res is the tunnel's own: its values can be shared
		} else {
			dst[k] = append(dst[k], vv...)
		}
	}
	announced := len(res.Trailer)
	if announced > 0 {
		keys := make([]string, 0, announced)
		for k := range res.Trailer {
			keys = append(keys, k)
		}
		dst.Add("Trailer", strings.Join(keys, ", "))
	}
	w.WriteHeader(res.StatusCode)

	// An event stream, or a body of unknown length, goes out as it comes,
	// as the ReverseProxy sends it; the headers too, unless the start of
	// the body came with them and is about to follow.
	var flush func() error
	if ex.stream || res.ContentLength < 0 {
		flush = http.NewResponseController(w).Flush
		if !bodyBuffered(raw) {
			_ = flush()
		}
	}
	if err := h.relay(r.Context(), w, res.Body, raw, flush); err != nil {
		res.Body.Close()
		// The response is cut short; all that is left is to abort it,
		// as the ReverseProxy does.
		panic(http.ErrAbortHandler)
	}
	res.Body.Close() // reads the trailers

	if len(res.Trailer) > 0 {
		// Force chunking, as the ReverseProxy does: a trailer needs it.
		_ = http.NewResponseController(w).Flush()
	}
	for k, vv := range res.Trailer {
		if len(res.Trailer) != announced {
			k = http.TrailerPrefix + k
		}
		for _, v := range vv {
			dst.Add(k, v)
		}
	}
}

// relay copies a response body to the client. With flush set, what has
// been written is flushed whenever the next read would wait for the
// server: no event is held back, but an event that arrived together with
// the next one, or with the end of the stream, goes out with it in one
// write rather than two (the handler's return flushes the last).
//
// body is read; raw is what it reads from, whose buffer tells whether the
// next read would wait.
func (h *HTTP) relay(ctx context.Context, w io.Writer, body, raw io.Reader, flush func() error) error {
	buf := copyBufferPool.Get().(*[32 << 10]byte)
	defer copyBufferPool.Put(buf)
	for {
		n, rerr := body.Read(buf[:])
		if n > 0 {
			if _, err := w.Write(buf[:n]); err != nil {
				return err
			}
			if flush != nil && rerr == nil && !bodyBuffered(raw) {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			if ctx.Err() == nil { // else the client left, and no one is told
				h.log.Warn("reading the upstream response", "error", rerr)
			}
			return rerr
		}
	}
}

// bodyBuffered reports whether more of a response body can be read at
// once, without waiting for the server.
func bodyBuffered(body io.Reader) bool {
	b, ok := body.(interface{ buffered() bool })
	return ok && b.buffered()
}

// Values the outgoing request's headers share: they are never changed.
var (
	noUserAgent = []string{""} // the Transport then sends none, not its own
	teTrailers  = []string{"trailers"}
)

// outHeader returns the headers of the request to the server: the
// client's, less what the ReverseProxy removes (hop-by-hop headers, those
// the Connection header names, and the client's forwarding headers) and
// Accept-Encoding, so that responses come uncompressed and can be read as
// they pass; then the headers of set (HTTPOptions.Header) replace those of
// the same names. The values are shared with in and set.
func outHeader(in, set http.Header) http.Header {
	out := make(http.Header, len(in)+len(set)+1)
	for k, vv := range in {
		switch k {
		case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
			"Te", "Trailer", "Transfer-Encoding", "Upgrade",
			"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
			"Accept-Encoding":
			continue
		}
		out[k] = vv
	}
	for _, f := range in["Connection"] {
		for _, name := range strings.Split(f, ",") {
			if name = textproto.TrimString(name); name != "" {
				delete(out, textproto.CanonicalMIMEHeaderKey(name))
			}
		}
	}
	for _, v := range in["Te"] {
		if hasToken(v, "trailers") {
			out["Te"] = teTrailers
			break
		}
	}
	setHeader(out, set)
	if _, ok := out["User-Agent"]; !ok {
		out["User-Agent"] = noUserAgent
	}
	return out
}

// removeHopByHop removes from a response's headers those that concern
// only the connection it came on.
func removeHopByHop(h http.Header) {
	for _, f := range h["Connection"] {
		for _, name := range strings.Split(f, ",") {
			if name = textproto.TrimString(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, k := range []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
		"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"} {
		delete(h, k)
	}
}

// hasToken reports whether the comma-separated list v holds token, in any
// case.
func hasToken(v, token string) bool {
	for _, t := range strings.Split(v, ",") {
		if strings.EqualFold(textproto.TrimString(t), token) {
			return true
		}
	}
	return false
}

func copyHeader(dst, src http.Header) {
	for k, vv := range src {
		for _, v := range vv {
			dst.Add(k, v)
		}
	}
}
