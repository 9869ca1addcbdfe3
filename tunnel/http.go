package tunnel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/record"
)

// Headers of the Streamable HTTP transport the tunnel reads. Every header
// is forwarded both ways as it is; these are also read.
const (
	headerSession = "Mcp-Session-Id"
)

// HTTPOptions configure an HTTP tunnel. The zero value is a good default.
type HTTPOptions struct {
	// Transport makes the requests to the server. Default: a clone of
	// http.DefaultTransport tuned for one busy upstream (see
	// newTransport).
	Transport http.RoundTripper
	// MaxBodySize bounds a request body (larger ones are refused with 413
	// and a JSON-RPC error) and the part of a response body or event that
	// is interpreted (larger ones are relayed, not interpreted). Default
	// DefaultMaxLineSize.
	MaxBodySize int
	// Header is set on every request to the server, replacing the
	// client's values of the same names: the server's own credentials,
	// say, when the client's Authorization is for a listener in front of
	// the tunnel. CheckHeader tells which headers may be given.
	Header http.Header
	// Logger receives the tunnel's own messages. Default slog.Default().
	Logger *slog.Logger
	// Observers are fed the calls' details.
	Observers Observers
}

// An HTTP tunnel is a reverse proxy for an MCP server's Streamable HTTP
// endpoint that times every request into the monitor. Serve it on a
// listener of its own and point the client at the same path there: a
// request for the endpoint's path is measured and forwarded to the
// endpoint, any other path (such as OAuth metadata under /.well-known/) is
// forwarded to the same path on the server, unmeasured.
//
// POST bodies (a message or a batch) are read whole, up to MaxBodySize, and
// forwarded; responses, JSON or an event stream, are streamed through as
// they arrive and read as they pass. An event is flushed to the client as
// soon as the tunnel has nothing more from the server to send with it, so
// none waits for the next. GET streams and DELETE are forwarded, with
// every header (Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID,
// Authorization) both ways, except those that concern one connection only
// (hop-by-hop), the client's Forwarded and X-Forwarded-*, and, on the
// endpoint, Accept-Encoding; the headers of HTTPOptions.Header replace the
// client's on every request, whichever way it goes.
// A request's time runs from the arrival of its POST to the passing of its
// response. Every request goes through one httputil.ReverseProxy on the
// Transport (see http_forward.go). Safe for concurrent use.
type HTTP struct {
	target   *url.URL // the server's origin
	endpoint string   // the MCP endpoint's path
	maxBody  int
	header   http.Header // HTTPOptions.Header, canonical
	meters   *meters
	log      *slog.Logger
	info     infoState
	proxy    *httputil.ReverseProxy
	// countLarge counts a body or event too large to interpret; made
	// once, not per response.
	countLarge func()
	// corr matches the requests: each POST's own, kept in its exchange,
	// and the server's requests to the client, by session and id, until
	// the client POSTs the answer.
	corr *correlator[httpCall]
}

// httpCall is what the HTTP tunnel keeps with a request beyond what every
// transport keeps: nothing, the session being common to both.
type httpCall struct{}

// NewHTTP returns a tunnel to the MCP endpoint at endpoint (an http or
// https URL), timing requests into m. Like NewStdio, it registers the gauge
// upstream_up, here 1 while the server answers and 0 once it could not be
// reached, and the alert rule upstream_down.
func NewHTTP(m *monitor.Monitor, endpoint string, opts HTTPOptions) (*HTTP, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("tunnel: upstream URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("tunnel: upstream URL %q: want http(s)://host/path", endpoint)
	}
	mt, err := newMeters(m, monitor.TransportHTTP)
	if err != nil {
		return nil, fmt.Errorf("registering tunnel metrics: %w", err)
	}
	if opts.MaxBodySize <= 0 {
		opts.MaxBodySize = DefaultMaxLineSize
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if err := CheckHeader(opts.Header); err != nil {
		return nil, fmt.Errorf("tunnel: %w", err)
	}
	if opts.Transport == nil {
		opts.Transport = newTransport(checksIdle(u))
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	h := &HTTP{
		target:   &url.URL{Scheme: u.Scheme, Host: u.Host},
		endpoint: path,
		maxBody:  opts.MaxBodySize,
		header:   canonicalHeader(opts.Header),
		meters:   mt,
		log:      opts.Logger,
		corr:     newCorrelator[httpCall](mt, opts.Observers),
	}
	h.corr.initialized = h.initialized
	h.corr.listed = h.listed
	h.corr.maxRewrite = opts.MaxBodySize
	h.corr.notices = &cancelNotices{}
	h.countLarge = mt.oversized.Inc
	h.proxy = h.newReverseProxy(opts.Transport)
	shown := *u
	shown.User, shown.RawQuery, shown.Fragment = nil, "", ""
	h.info.update(func(i *Info) { i.Transport, i.URL = "http", shown.String() })
	return h, nil
}

// Info describes the server as the tunnel knows it now.
func (h *HTTP) Info() Info { return h.info.get() }

// exchange is one HTTP request to the endpoint and its response.
type exchange struct {
	start   time.Time
	session string            // Mcp-Session-Id, from the request or the response
	calls   callSet[httpCall] // the POST's requests awaiting their response
	batch   bool              // the POST's body is a batch
	status  int               // the server's HTTP status, 0 without one
	stream  bool              // the response is an event stream
	failed  error             // the server could not be reached
	// later holds the answered calls still to be reported, once their
	// answer is relayed (hop.later).
	later []report
}

type exchangeKey struct{}

func (h *HTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.EscapedPath() != h.endpoint {
		h.proxy.ServeHTTP(w, r)
		return
	}
	ex := &exchange{start: time.Now(), session: r.Header.Get(headerSession)}
	if r.Method == http.MethodPost {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(h.maxBody)))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				h.meters.oversized.Inc()
				writeRPCError(w, http.StatusRequestEntityTooLarge, nil, -32600,
					"request body larger than "+strconv.Itoa(h.maxBody)+" bytes")
				return
			}
			writeRPCError(w, http.StatusBadRequest, nil, -32700, "reading the request body: "+err.Error())
			return
		}
		out, reply := h.fromClient(ex, body, r.RemoteAddr, r.Header)
		if reply != nil {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(reply)
			return
		}
		if out != nil {
			body = out // the trace context of the forwarding in _meta
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	// ReverseProxy panics with http.ErrAbortHandler when the client goes
	// away mid-stream; the requests of the exchange are settled anyway.
	defer h.settle(r.Context(), ex)
	h.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), exchangeKey{}, ex)))
	if len(ex.later) > 0 {
		// A JSON answer waits in the server's buffer until the handler
		// returns: it goes to the client first.
		_ = http.NewResponseController(w).Flush()
		h.report(ex)
	}
	if r.Method == http.MethodDelete && ex.status >= 200 && ex.status < 300 && ex.session != "" {
		// The session is over: its server's questions will not be answered.
		now := time.Now()
		for _, c := range h.corr.s2c.drain(func(c call[httpCall]) bool { return c.session == ex.session }) {
			untraced(&c.req, now)
		}
		h.corr.clients.forget(ex.session)
		if end := h.corr.obs.OnSessionEnd; end != nil {
			end(monitor.TransportHTTP, ex.session)
		}
	}
}

// closeIdle closes the connections to the server that no request uses.
func (h *HTTP) closeIdle() {
	if t, ok := h.proxy.Transport.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
}

// tap notes the server's answer to an exchange and sets its body to be
// interpreted as it passes.
func (h *HTTP) tap(ex *exchange, res *http.Response) {
	h.setUp(true, nil)
	ex.status = res.StatusCode
	if ex.session == "" {
		ex.session = res.Header.Get(headerSession)
	}
	ct, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	switch ct {
	case "text/event-stream":
		ex.stream = true
		tap := newSSETap(res.Body, h.maxBody, func(data []byte) { h.fromServer(ex, data) }, func(n int) { h.large(ex, n) })
		tap.relayed = func() { h.report(ex) }
		res.Body = tap
	case "application/json":
		res.Body = &bodyTap{body: res.Body, max: h.maxBody, onBody: func(data []byte) { h.fromServer(ex, data) }, onLarge: func(n int) { h.large(ex, n) }}
	}
}

// listed times the server's first tools/list answer, from its first
// initialize.
func (h *HTTP) listed(_ *call[httpCall], at time.Time) {
	h.info.update(func(i *Info) { i.ColdStart = i.ColdStart.listedAt(at) })
}

// setUp records whether the server answers, logging changes only: a down
// server would otherwise log once per request.
func (h *HTTP) setUp(up bool, err error) {
	state := upNo
	if up {
		state = upYes
	}
	was := h.meters.up.Swap(state)
	h.info.setUp(up)
	switch {
	case up && was == upNo:
		h.log.Info("upstream MCP server answers again")
	case !up && was != upNo:
		h.log.Error("upstream MCP server unreachable", "error", err)
	}
}

// decode reads a POST body, a JSON response body or an event's data,
// counting what is not JSON-RPC (blank data is nothing, not malformed).
func (h *HTTP) decode(data []byte) ([]message, bool) {
	msgs, err := decode(data, nil)
	if err != nil {
		if !isBlank(data) {
			h.meters.malformed.Inc()
		}
		return nil, false
	}
	return msgs, true
}

// fromClient interprets a POST body.
// It returns the body to forward instead, when tracing rewrote it, or the
// answer to give the client instead of forwarding it (a blocked call).
func (h *HTTP) fromClient(ex *exchange, body []byte, peer string, header http.Header) (out, reply []byte) {
	h.corr.obs.record(ex.start, record.ToServer, ex.session, body)
	msgs, ok := h.decode(body)
	if !ok {
		return nil, nil
	}
	ex.batch = bytes.TrimLeft(body, " \t\r\n")[0] == '['
	hp := hop[httpCall]{now: ex.start, session: ex.session, requests: &ex.calls, peer: peer, header: header}
	if len(msgs) == 1 {
		hp.raw = body
	}
	for i := range msgs {
		// A body is relayed whole: nothing in it is dropped; a single
		// request may be refused.
		if h.corr.fromClient(&msgs[i], &hp) == refuse {
			return nil, hp.reply
		}
	}
	return hp.out, nil
}

// large counts a body or event of the server's too large to interpret,
// of size bytes, and tells the recorder of it.
func (h *HTTP) large(ex *exchange, size int) {
	h.countLarge()
	h.corr.obs.omitted(time.Now(), record.ToClient, ex.session, size)
}

// fromServer interprets a JSON response body or the data of one event.
func (h *HTTP) fromServer(ex *exchange, data []byte) {
	now := time.Now()
	h.corr.obs.record(now, record.ToClient, ex.session, data)
	msgs, ok := h.decode(data)
	if !ok {
		return
	}
	hp := hop[httpCall]{now: now, session: ex.session, requests: &ex.calls, later: &ex.later}
	if len(msgs) == 1 {
		hp.raw = data
	}
	for i := range msgs {
		h.corr.fromServer(&msgs[i], &hp)
	}
}

// report finishes the answered calls of ex that wait (exchange.later).
func (h *HTTP) report(ex *exchange) { h.corr.finishAll(&ex.later) }

// settle records the requests of an exchange that got no response, with
// the reason as error type.
func (h *HTTP) settle(ctx context.Context, ex *exchange) {
	h.report(ex) // when the client left mid-answer
	if ex.calls.len() == 0 {
		return
	}
	errType := ErrorTypeNoResponse
	switch {
	case ctx.Err() != nil:
		errType = monitor.ErrorTypeCancelled
	case ex.failed != nil:
		errType = ErrorTypeUpstreamError
	case ex.status >= 400:
		errType = errorTypeHTTP(ex.status)
	}
	now := time.Now()
	ex.calls.each(func(id string, c *call[httpCall]) { h.corr.settle(ex.session, id, c, now, errType) })
}

func (h *HTTP) initialized(m *message, c *call[httpCall]) {
	impl, version := m.serverInfoOf(), m.protocolVersionOf()
	now := time.Now()
	h.info.update(func(i *Info) {
		i.Server, i.ProtocolVersion = &impl, version
		if i.ColdStart == nil { // the first initialize the server answered
			i.ColdStart = &ColdStart{InitializeMs: msSince(c.start, now), from: c.start}
		}
	})
	h.log.Info("upstream MCP server initialized", "server_name", impl.Name, "server_version", impl.Version,
		"protocol_version", version)
}
