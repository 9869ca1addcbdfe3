package tunnel

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/sse"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// A Remote gives a client on stdio an MCP server's Streamable HTTP
// endpoint: each line of the client's is POSTed to the server, and what
// the server sends, on the POST's response or on the session's GET
// stream, goes back to the client as lines. The requests go through an
// HTTP tunnel in this process, measured as "proxy --upstream" measures
// them; the server's session id and protocol version are kept and sent as
// the transport asks, and the GET stream is opened after initialize and
// opened again when it drops.
type Remote struct {
	tunnel   *HTTP
	client   *http.Client
	endpoint string
	opts     RemoteOptions
	log      *slog.Logger

	// The client's output: lines go through lines to one writer, so that
	// a client that stops reading holds up no request and no exit.
	lines chan []byte
	quit  chan struct{} // closed when Run gives up on the client's output

	ctx       context.Context // the GET stream's: it ends with the client's input
	mu        sync.Mutex
	session   string
	protocol  string
	listening bool // the GET stream is started

	wg sync.WaitGroup // the GET stream
}

// RemoteOptions configure a Remote. The zero value reads this process's
// stdin and writes its stdout.
type RemoteOptions struct {
	Stdin  io.Reader
	Stdout io.Writer
	// HTTP configures the tunnel to the server: its headers (the
	// server's credentials), body bound, logger and observers.
	HTTP HTTPOptions
	// MaxBackoff bounds the wait before the GET stream is opened again;
	// default 10 s.
	MaxBackoff time.Duration
}

// NewRemote returns a Remote for the server's endpoint URL, timing the
// requests into m, and registering what NewHTTP registers.
func NewRemote(m *monitor.Monitor, endpoint string, opts RemoteOptions) (*Remote, error) {
	h, err := NewHTTP(m, endpoint, opts.HTTP)
	if err != nil {
		return nil, err
	}
	if opts.Stdin == nil {
		opts.Stdin = os.Stdin
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 10 * time.Second
	}
	return &Remote{
		tunnel: h, client: &http.Client{Transport: handlerTransport{h}}, endpoint: endpoint,
		opts: opts, log: h.log, lines: make(chan []byte, 64), quit: make(chan struct{}),
	}, nil
}

// Info describes the server as the tunnel knows it.
func (r *Remote) Info() Info { return r.tunnel.Info() }

// Run relays until the client closes stdin, or ctx ends; then it ends the
// session with the server (DELETE) and returns. Run may be called once.
func (r *Remote) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	written := make(chan struct{})
	go r.writeClient(written)
	// The GET stream ends when the client's input does; the POSTs in
	// flight then are answered first (a client that wrote its requests
	// and closed its input still reads the answers), within endGrace.
	listenCtx, stopListening := context.WithCancel(ctx)
	defer stopListening()
	r.mu.Lock()
	r.ctx = listenCtx
	r.mu.Unlock()
	lines := make(chan []byte)
	readErr := make(chan error, 1)
	go func() { readErr <- r.readClient(ctx, lines) }()
	var posts sync.WaitGroup
	var err error
	for done := false; !done; {
		select {
		case line, ok := <-lines:
			if !ok {
				err, done = <-readErr, true
				break
			}
			msgs, derr := decode(line, nil)
			if derr != nil {
				r.write(errorResponse(nil, -32700, "not a JSON-RPC message: "+derr.Error()))
				break
			}
			if hasRequest(msgs) {
				posts.Go(func() { r.post(ctx, line, msgs) })
				break
			}
			// A notification or an answer is sent before anything after
			// it, as the SDKs' own HTTP clients do by awaiting its 202:
			// a server must see notifications/initialized before the
			// tools/list that follows it (servers offer tools by the
			// client's capabilities then), a cancellation before the
			// next request. Requests go side by side: a long call must
			// not hold up the others.
			r.post(ctx, line, msgs)
		case <-ctx.Done():
			done = true
		}
	}
	answered := make(chan struct{})
	go func() { posts.Wait(); close(answered) }()
	t := time.NewTimer(endGrace)
	select {
	case <-answered:
	case <-t.C:
		r.log.Warn("the client closed its input; requests still unanswered are given up", "waited", endGrace)
	case <-ctx.Done():
	}
	t.Stop()
	stopListening()
	cancel()
	close(r.quit) // a client that does not read holds nothing up now
	<-answered
	r.wg.Wait()
	r.endSession()
	close(r.lines)
	select {
	case <-written:
	case <-time.After(time.Second):
		// The client reads no more: its last lines are lost with it.
	}
	r.tunnel.closeIdle()
	return err
}

// endGrace bounds the wait, once the client's input has ended, for the
// answers to its last requests.
const endGrace = 10 * time.Second

// readClient sends the client's lines on lines until its end of input.
// A line longer than the tunnel takes is answered with an error here,
// with its request's id, read as the line passed.
func (r *Remote) readClient(ctx context.Context, lines chan<- []byte) error {
	defer close(lines)
	br := bufio.NewReaderSize(r.opts.Stdin, 64<<10)
	max := r.tunnel.maxBody
	var (
		line []byte
		long bool
		ls   longScanner
		id   []byte
	)
	keep := func(m *message) {
		if m.kind() == kindRequest && !m.idCut {
			id = bytes.Clone(m.ID)
		}
	}
	for {
		piece, err := br.ReadSlice('\n')
		switch {
		case long:
			ls.feed(piece, keep)
		case len(line)+len(piece) > max+2:
			long, id = true, nil
			ls.reset()
			ls.feed(line, keep)
			ls.feed(piece, keep)
			line = line[:0]
		default:
			line = append(line, piece...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if long {
			_ = ls.finish(keep)
			if id != nil {
				r.write(errorResponse(id, -32600, "message larger than "+strconv.Itoa(max)+" bytes (--max-line-size)"))
			}
			r.log.Warn("a message of the client's is too large to send; dropped", "max_bytes", max)
			long = false
		} else if msg := bytes.TrimSpace(line); len(msg) > 0 {
			select {
			case lines <- bytes.Clone(msg):
			case <-ctx.Done():
				return nil
			}
		}
		line = line[:0]
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the client's stdin: %w", err)
		}
	}
}

// post sends one message of the client's and relays the answer. Every
// request in it is answered once: by the server, or, when the server's
// answer does not come (a failure, a stream that ends, a body that is
// not one), with an error carrying its id. msgs are msg's, as Run read
// them.
func (r *Remote) post(ctx context.Context, msg []byte, msgs []message) {
	pending := map[string]bool{}
	initialize := false
	for i := range msgs {
		if msgs[i].kind() == kindRequest {
			pending[string(msgs[i].ID)] = true
			initialize = initialize || msgs[i].Method == "initialize"
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.endpoint, bytes.NewReader(msg))
	if err != nil {
		r.fail(msgs, pending, err.Error())
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("User-Agent", userAgent)
	sent := ""
	if !initialize {
		// A new initialize begins a new session: it carries none.
		sent = r.sessionHeaders(req)
	}
	res, err := r.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			r.fail(msgs, pending, err.Error())
		}
		return
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusNotFound && sent != "" {
		r.sessionGone(sent)
	}
	if id := res.Header.Get(headerSession); id != "" && initialize && res.StatusCode < 300 {
		r.mu.Lock()
		r.session = id
		r.mu.Unlock()
	}
	why := "HTTP " + strconv.Itoa(res.StatusCode) + " from the MCP server"
	ct, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	switch {
	case ct == "text/event-stream":
		if err := r.relayEvents(res.Body, pending); err != nil {
			why = "the MCP server's event stream broke off before the answer: " + err.Error()
		} else {
			why = "the MCP server's event stream ended without the answer"
		}
	case ct == "application/json":
		body, err := io.ReadAll(io.LimitReader(res.Body, int64(r.tunnel.maxBody)+1))
		switch {
		case err != nil:
			why += ", its body broken off: " + err.Error()
		case len(body) > r.tunnel.maxBody:
			why += ", its body larger than " + strconv.Itoa(r.tunnel.maxBody) + " bytes (--max-line-size)"
		case res.StatusCode < 300 || answers(body, msgs):
			r.fromServer(body, pending)
		default:
			// An error of the transport's (no session, a session gone,
			// a body refused), not an answer the client could match:
			// each request gets one with its own id.
			why += ": " + errorText(body)
		}
	case res.StatusCode >= 200 && res.StatusCode < 300:
		// 202 for notifications and answers; for requests, not an answer.
		why += ", with " + strconv.Quote(res.Header.Get("Content-Type")) + " instead of JSON or an event stream"
	default:
		b, _ := io.ReadAll(io.LimitReader(res.Body, 200))
		why += ": " + string(bytes.TrimSpace(b))
	}
	if res.StatusCode >= 300 && len(pending) == 0 && len(msgs) > 0 {
		r.log.Warn("a message to the MCP server was refused", "method", msgs[0].Method, "error", why)
	}
	r.fail(msgs, pending, why)
}

// userAgent names the proxy to servers and the firewalls before them.
const userAgent = "pbatunnel-proxy"

// sessionHeaders sets the session's id and protocol version on req, and
// returns the id set.
func (r *Remote) sessionHeaders(req *http.Request) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.session != "" {
		req.Header.Set(headerSession, r.session)
	}
	if r.protocol != "" {
		req.Header.Set("MCP-Protocol-Version", r.protocol)
	}
	return r.session
}

// sessionGone forgets a session the server no longer knows (404): the
// client's next initialize begins a new one, and its GET stream with it.
func (r *Remote) sessionGone(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.session == id {
		r.log.Warn("the MCP server no longer knows the session; the client must initialize again", "status", 404)
		r.session, r.protocol, r.listening = "", "", false
	}
}

// fail answers the requests of msgs still pending with an error: the
// client must not wait for answers that will not come.
func (r *Remote) fail(msgs []message, pending map[string]bool, why string) {
	failed := ""
	for i := range msgs {
		if msgs[i].kind() == kindRequest && pending[string(msgs[i].ID)] {
			delete(pending, string(msgs[i].ID))
			r.write(errorResponse(msgs[i].ID, codeUpstreamExit, why))
			failed = msgs[i].Method
		}
	}
	if failed != "" {
		r.log.Warn("a request to the MCP server failed", "method", failed, "error", why)
	}
}

// relayEvents writes each event of an event stream to the client until
// the stream ends: nil at its end, else why it broke off.
func (r *Remote) relayEvents(body io.Reader, pending map[string]bool) error {
	sc := sse.Scanner{Max: r.tunnel.maxBody, OnEvent: func(data []byte) { r.fromServer(data, pending) },
		OnLarge: func(n int) {
			r.log.Warn("an event of the MCP server's is too large to relay; dropped", "bytes", n, "max_bytes", r.tunnel.maxBody)
		}}
	buf := make([]byte, 32<<10)
	for {
		n, err := body.Read(buf)
		sc.Scan(buf[:n])
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// fromServer writes a message (or batch) of the server's to the client,
// on one line, and takes the answers in it off pending (nil for the GET
// stream); it notes the protocol version an initialize answer names and
// then opens the GET stream.
func (r *Remote) fromServer(data []byte, pending map[string]bool) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return
	}
	if bytes.ContainsAny(data, "\r\n") {
		var b bytes.Buffer
		if json.Compact(&b, data) != nil {
			return
		}
		data = b.Bytes()
	}
	msgs, err := decode(data, nil)
	if err != nil {
		return
	}
	for i := range msgs {
		if msgs[i].kind() == kindResponse {
			delete(pending, string(msgs[i].ID))
		}
		if v := msgs[i].protocolVersionOf(); v != "" && msgs[i].hasResult {
			r.initialized(v)
		}
	}
	r.write(append(bytes.Clone(data), '\n'))
}

// initialized keeps the protocol version agreed and starts the GET stream.
func (r *Remote) initialized(version string) {
	r.mu.Lock()
	r.protocol = version
	start := !r.listening && r.session != ""
	r.listening = r.listening || start
	ctx := r.ctx
	r.mu.Unlock()
	if start {
		r.wg.Go(func() { r.listen(ctx) })
	}
}

// write hands one line to the client's writer; a line for a client that
// no longer reads, once Run has given up on it, is dropped.
func (r *Remote) write(line []byte) {
	select {
	case r.lines <- line:
	case <-r.quit:
	}
}

// writeClient writes the lines to the client until they end.
func (r *Remote) writeClient(done chan<- struct{}) {
	defer close(done)
	w := bufio.NewWriter(r.opts.Stdout)
	for line := range r.lines {
		_, _ = w.Write(line)
		if len(r.lines) == 0 {
			_ = w.Flush()
		}
	}
	_ = w.Flush()
}

// hasRequest reports whether msgs hold a request.
func hasRequest(msgs []message) bool {
	for i := range msgs {
		if msgs[i].kind() == kindRequest {
			return true
		}
	}
	return false
}

// answers reports whether body is the answer to the requests among msgs:
// a response, or a batch of them, naming each request's id.
func answers(body []byte, msgs []message) bool {
	got, err := decode(body, nil)
	if err != nil {
		return false
	}
	ids := map[string]bool{}
	for i := range got {
		if got[i].kind() != kindResponse {
			return false
		}
		ids[string(got[i].ID)] = true
	}
	for i := range msgs {
		if msgs[i].kind() == kindRequest && !ids[string(msgs[i].ID)] {
			return false
		}
	}
	return true
}

// errorText is what an error body says: a JSON-RPC error's message, or
// the start of the body.
func errorText(body []byte) string {
	var v struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &v) == nil && v.Error.Message != "" {
		return v.Error.Message
	}
	if len(body) > 200 {
		body = body[:200]
	}
	return string(bytes.TrimSpace(body))
}
