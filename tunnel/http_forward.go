package tunnel

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// Forwarding. Every request, measured or not, goes to the server through
// one httputil.ReverseProxy on one http.Transport.
//
// Why the ReverseProxy rather than a handler of the tunnel's own on the
// Transport: it is the one path that already does all a proxy must (1xx
// responses, trailers, hop-by-hop headers, protocol upgrades, Expect,
// streamed bodies both ways, an abort when the client leaves), and what it
// does beyond the RoundTrip is cheap against the RoundTrip itself.
// Profiled with go-sdk client and server in one process (16 clients), its
// own work (cloning the request, removing hop-by-hop headers, copying the
// response's headers) is about 1 % of the CPU, while the Transport's
// goroutines, the sockets' system calls and the scheduler's wake-ups take
// several times that; a handler of the tunnel's own would use the same
// Transport, could save at most the 1 %, and would have to repeat all of
// the above. Holding back the headers of an event stream until its first
// event, to save the separate write the ReverseProxy makes of them, was
// tried and gained nothing measurable (docs/BENCHMARKS.md §7).

// newTransport is the default Transport: http.DefaultTransport's timeouts
// for dialing (30 s), TLS handshakes (10 s), idle connections (90 s) and
// Expect (1 s), its proxy from the environment, and HTTP/2 when the server
// is https and offers it; no timeout on a response, since a tool call or
// an event stream may rightly take minutes. checkIdle wraps the
// connections in idleCheckedConn: for a plain-http server reached
// directly, since under TLS or HTTP/2 the server may rightly send bytes
// between responses. Changed:
func newTransport(checkIdle bool) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	// The tunnel must read the responses as they pass: it asks for no
	// compression (see rewrite), and the Transport must not ask for gzip
	// on its own and decode it, which would change the bodies relayed.
	t.DisableCompression = true
	// Every request goes to this one host, from as many clients as are
	// in flight at once: the default of two idle connections per host
	// would close, and open anew, most connections of a busy client.
	t.MaxIdleConnsPerHost = t.MaxIdleConns
	if checkIdle {
		t.DialContext = dialIdleChecked(&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second})
	}
	return t
}

// checksIdle reports whether connections to the server u can be checked
// (newTransport): plain http, and no proxy from the environment, which
// could be reached over TLS.
func checksIdle(u *url.URL) bool {
	if u.Scheme != "http" {
		return false
	}
	p, err := http.ProxyFromEnvironment(&http.Request{URL: u})
	return err == nil && p == nil
}

// newReverseProxy is the tunnel's ReverseProxy on transport.
func (h *HTTP) newReverseProxy(transport http.RoundTripper) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite:   h.rewrite,
		Transport: transport,
		// Zero: ReverseProxy flushes every write of an event stream, or of
		// a body of unknown length, at once by itself (its flushInterval),
		// so no event is held back; a JSON body of known length goes out
		// whole, without the timer and early header write that -1 costs
		// on every response.
		FlushInterval:  0,
		ModifyResponse: h.modifyResponse,
		ErrorHandler:   h.reverseProxyError,
		ErrorLog:       slog.NewLogLogger(h.log.Handler(), slog.LevelWarn),
		BufferPool:     copyBuffers{},
	}
}

// rewrite sends the request to the server, headers untouched but
// Accept-Encoding, removed on the endpoint so that responses come
// uncompressed and can be read as they pass, and those of
// HTTPOptions.Header, set.
func (h *HTTP) rewrite(pr *httputil.ProxyRequest) {
	pr.SetURL(h.target) // the server's own Host too, as a direct client sends it
	if pr.In.URL.EscapedPath() == h.endpoint {
		pr.Out.Header.Del("Accept-Encoding")
	}
	setHeader(pr.Out.Header, h.header)
	if pr.In.GetBody != nil {
		// A body the Transport knows to be in memory goes out in one write
		// with the headers; the ReverseProxy's wrapping of it would make
		// two.
		pr.Out.Body, _ = pr.In.GetBody()
	}
}

func (h *HTTP) modifyResponse(res *http.Response) error {
	if ex, _ := res.Request.Context().Value(exchangeKey{}).(*exchange); ex != nil {
		h.tap(ex, res)
	}
	return nil
}

// reverseProxyError is the ReverseProxy's ErrorHandler.
func (h *HTTP) reverseProxyError(w http.ResponseWriter, r *http.Request, err error) {
	ex, _ := r.Context().Value(exchangeKey{}).(*exchange)
	h.proxyError(w, r, ex, err)
}

// proxyError answers a request the server could not be asked, with the
// JSON-RPC error a client can show. ex is nil off the endpoint.
func (h *HTTP) proxyError(w http.ResponseWriter, r *http.Request, ex *exchange, err error) {
	if ex != nil {
		ex.failed = err
	}
	if r.Context().Err() != nil {
		return // the client went away: no one to answer
	}
	h.setUp(false, err)
	writeCallErrors(w, http.StatusBadGateway, ex, codeUpstreamExit, "upstream MCP server unreachable: "+err.Error())
}

// writeRPCError answers with a JSON-RPC error response; id nil is null.
func writeRPCError(w http.ResponseWriter, status int, id []byte, code int, msg string) {
	if id == nil {
		id = jsonNull
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(errorResponse(id, code, msg))
}

// writeCallErrors answers the requests of ex, which will get no response
// from the server, with JSON-RPC errors carrying their ids, so that the
// client can tell which of its requests failed: one response for a single
// request, an array of one per request for a batch. Without requests (ex
// nil, or a POST of notifications only) there is no id to give, and the
// error has id null.
func writeCallErrors(w http.ResponseWriter, status int, ex *exchange, code int, msg string) {
	if ex == nil || ex.calls.len() == 0 {
		writeRPCError(w, status, nil, code, msg)
		return
	}
	var body []byte
	if ex.batch {
		body = append(body, '[')
	}
	ex.calls.each(func(id string, _ *call[httpCall]) {
		if len(body) > 1 {
			body = append(body, ',')
		}
		body = appendErrorResponse(body, []byte(id), code, msg)
	})
	if ex.batch {
		body = append(body, ']')
	}
	body = append(body, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// copyBuffers reuses the proxy's copy buffers: without a pool, it makes
// and clears 32 KiB for every response.
type copyBuffers struct{}

var copyBufferPool = sync.Pool{New: func() any { return new([32 << 10]byte) }}

func (copyBuffers) Get() []byte  { return copyBufferPool.Get().(*[32 << 10]byte)[:] }
func (copyBuffers) Put(b []byte) { copyBufferPool.Put((*[32 << 10]byte)(b[:32<<10])) }
