package tunnel

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// h1Client sends the endpoint's POSTs to a plain-HTTP server over HTTP/1.1
// on connections it keeps open, writing each request and reading its
// response in the caller's goroutine.
//
// It exists for speed: http.Transport gives every connection a reading and
// a writing goroutine and hands each request and response between them and
// the caller, three wake-ups per request, which on a small busy machine
// cost more than the rest of the tunnel's work. Here the handler writes the
// request itself, reads the response itself, and puts the connection back
// once the body has been read to its end.
//
// What the Transport does for a POST and this client does the same way:
// the request goes out as http.Request.Write writes it, headers and body
// in one write, and the response is read by http.ReadResponse; interim
// (1xx) responses are passed on; a kept-alive connection the server has
// closed is noticed before it is used (alive); a request is sent again on
// a new connection only when nothing of it could be written; the request
// is abandoned, and its connection closed, when its context ends. Safe for
// concurrent use.
type h1Client struct {
	addr        string // host:port
	head        string // the request line and Host header
	dialer      net.Dialer
	maxIdle     int
	idleTimeout time.Duration

	mu   sync.Mutex
	idle []*h1Conn // the most recently used last
}

// Limits as http.Transport's defaults have them.
const (
	h1MaxIdle        = 100
	h1IdleTimeout    = 90 * time.Second
	h1MaxHeaderBytes = 10 << 20
	h1BufferSize     = 8 << 10
)

// newH1Client returns a client for POSTs to the endpoint u, an http URL.
func newH1Client(u *url.URL) (*h1Client, error) {
	// The request line and Host header are those Request.Write writes for
	// u, taken from it once: they are the same for every request.
	var b strings.Builder
	req := &http.Request{Method: http.MethodPost, URL: u, ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{}}
	if err := req.Write(&b); err != nil {
		return nil, err
	}
	head, _, ok := strings.Cut(b.String(), "User-Agent:")
	if !ok {
		return nil, fmt.Errorf("unexpected request head %q", b.String())
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	return &h1Client{
		addr:        addr,
		head:        head,
		dialer:      net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second},
		maxIdle:     h1MaxIdle,
		idleTimeout: h1IdleTimeout,
	}, nil
}

// h1Conn is one connection to the server.
type h1Conn struct {
	conn      net.Conn
	raw       syscall.RawConn // for alive
	abort     func()          // unblocks the connection's reads and writes
	br        *bufio.Reader
	bw        *bufio.Writer
	reused    bool
	idleSince time.Time
	// left is what may still be read of the response's header, so that a
	// server sending an endless header cannot fill memory.
	left int64
	// wrote is set once a byte of the request has gone out.
	wrote bool
}

func (c *h1Conn) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errors.New("tunnel: server's response header too large")
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.conn.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *h1Conn) Write(p []byte) (int, error) {
	n, err := c.conn.Write(p)
	c.wrote = c.wrote || n > 0
	return n, err
}

// errNotSent marks a request of which nothing reached the server.
var errNotSent = errors.New("request not sent")

// postRequest is the request responses are read for: ReadResponse needs
// its method only.
var postRequest = &http.Request{Method: http.MethodPost}

// roundTrip POSTs body with the headers hdr and returns the final response
// once its header has arrived; on1xx gets each interim response before.
// The response's body reads from the connection, and Close gives the
// connection back, or closes it if the body was not read to its end.
func (c *h1Client) roundTrip(ctx context.Context, hdr http.Header, body []byte, on1xx func(code int, h http.Header)) (*http.Response, error) {
	for {
		pc, err := c.get(ctx)
		if err != nil {
			return nil, err
		}
		res, err := c.send(ctx, pc, hdr, body, on1xx)
		if err == nil {
			return res, nil
		}
		if !pc.reused || !errors.Is(err, errNotSent) || ctx.Err() != nil {
			return nil, err
		}
		// The server closed a kept-alive connection before any of the
		// request reached it: safe to send again on another.
	}
}

// excluded are the headers writeRequest writes itself, or not at all, as
// Request.Write does.
var excluded = map[string]bool{"Host": true, "User-Agent": true, "Content-Length": true, "Transfer-Encoding": true, "Trailer": true}

// writeRequest writes the POST as Request.Write would, in the same order:
// request line and Host, User-Agent if not empty, Content-Length, the
// other headers sorted, the body. hdr has a User-Agent (outHeader sees to
// it): without one, Request.Write would send Go's.
func (c *h1Client) writeRequest(bw *bufio.Writer, hdr http.Header, body []byte) error {
	bw.WriteString(c.head)
	if ua := textproto.TrimString(hdr.Get("User-Agent")); ua != "" {
		bw.WriteString("User-Agent: ")
		bw.WriteString(ua)
		bw.WriteString("\r\n")
	}
	bw.WriteString("Content-Length: ")
	bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(len(body)), 10))
	bw.WriteString("\r\n")
	if err := hdr.WriteSubset(bw, excluded); err != nil {
		return err
	}
	bw.WriteString("\r\n")
	bw.Write(body)
	return bw.Flush()
}

// send writes the request on pc and reads the response's header.
func (c *h1Client) send(ctx context.Context, pc *h1Conn, hdr http.Header, body []byte, on1xx func(int, http.Header)) (*http.Response, error) {
	// The handler's goroutine is the one blocked on the connection: the
	// end of the request's context unblocks it.
	stop := context.AfterFunc(ctx, pc.abort)
	fail := func(err error) (*http.Response, error) {
		stop()
		pc.conn.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	pc.wrote = false
	if err := c.writeRequest(pc.bw, hdr, body); err != nil {
		if !pc.wrote {
			err = fmt.Errorf("%w: %w", errNotSent, err)
		}
		return fail(err)
	}
	for {
		pc.left = h1MaxHeaderBytes
		res, err := http.ReadResponse(pc.br, postRequest)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				err = fmt.Errorf("server closed the connection before answering: %w", err)
			}
			return fail(err)
		}
		if res.StatusCode >= 100 && res.StatusCode < 200 && res.StatusCode != http.StatusSwitchingProtocols {
			on1xx(res.StatusCode, res.Header)
			continue
		}
		pc.left = 1<<63 - 1
		res.Body = &h1Body{c: c, pc: pc, body: res.Body, keep: !res.Close, stop: stop}
		return res, nil
	}
}

// get returns a kept-alive connection that is still open, or a new one.
func (c *h1Client) get(ctx context.Context) (*h1Conn, error) {
	now := time.Now()
	for {
		c.mu.Lock()
		n := len(c.idle)
		if n == 0 {
			c.mu.Unlock()
			break
		}
		pc := c.idle[n-1]
		c.idle[n-1] = nil
		c.idle = c.idle[:n-1]
		c.mu.Unlock()
		if now.Sub(pc.idleSince) < c.idleTimeout && pc.br.Buffered() == 0 && alive(pc.raw) {
			pc.reused = true
			return pc, nil
		}
		pc.conn.Close()
	}
	conn, err := c.dialer.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, err
	}
	sc, ok := conn.(syscall.Conn)
	if !ok {
		conn.Close()
		return nil, errors.New("tunnel: no raw connection to the server")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		conn.Close()
		return nil, err
	}
	pc := &h1Conn{conn: conn, raw: raw}
	pc.abort = func() { conn.SetDeadline(time.Unix(1, 0)) }
	pc.br = bufio.NewReaderSize(pc, h1BufferSize)
	pc.bw = bufio.NewWriterSize(pc, h1BufferSize)
	return pc, nil
}

// put keeps pc for another request, closing the connections that have
// been idle too long or are too many.
func (c *h1Client) put(pc *h1Conn) {
	now := time.Now()
	pc.idleSince = now
	c.mu.Lock()
	var drop []*h1Conn
	for len(c.idle) > 0 && (len(c.idle) >= c.maxIdle || now.Sub(c.idle[0].idleSince) >= c.idleTimeout) {
		drop = append(drop, c.idle[0])
		c.idle = c.idle[1:]
	}
	c.idle = append(c.idle, pc)
	c.mu.Unlock()
	for _, d := range drop {
		d.conn.Close()
	}
}

// closeIdle closes the kept-alive connections.
func (c *h1Client) closeIdle() {
	c.mu.Lock()
	idle := c.idle
	c.idle = nil
	c.mu.Unlock()
	for _, pc := range idle {
		pc.conn.Close()
	}
}

// h1Body is a response's body; it gives its connection back once read to
// its end and closed.
type h1Body struct {
	c      *h1Client
	pc     *h1Conn
	body   io.ReadCloser
	keep   bool // the server keeps the connection open
	stop   func() bool
	eof    bool
	closed bool
}

func (b *h1Body) Read(p []byte) (int, error) {
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	n, err := b.body.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

// buffered reports whether some of the body has arrived unread, so that
// a Read would return at once. Not quite always: a chunk's header cut in
// two by the network makes Read wait for its other half, which the server
// has sent already.
func (b *h1Body) buffered() bool { return !b.closed && !b.eof && b.pc.br.Buffered() > 0 }

func (b *h1Body) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	// stop is false when the context has ended and set a deadline on the
	// connection: it cannot be used again.
	if b.stop() && b.eof && b.keep {
		b.c.put(b.pc)
		return nil
	}
	// Closing the connection first makes the body's Close, which reads to
	// the end, return at once.
	b.pc.conn.Close()
	b.body.Close()
	return nil
}
