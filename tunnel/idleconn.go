package tunnel

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"syscall"
)

// Connections to a plain-http server are checked before a kept-alive one
// carries a new request. A server may close a connection it has kept
// idle (Node's closes them after 5 s) at any moment; http.Transport
// notices in its reading goroutine, but a request that comes before that
// goroutine has run is written to the closed connection, the server's
// end of file follows, and as some of the POST was written the Transport
// will not send it again: the client would get a 502 for a request the
// server never saw. idleCheckedConn looks first, and reports a closed
// connection as a write of nothing, which the Transport does retry on a
// new connection (the request's body can be had again: see rewrite).

// errIdleClosed is the write error of a kept-alive connection the server
// has closed.
var errIdleClosed = errors.New("the server closed the kept-alive connection")

// idleCheckedConn is a connection to the server whose first write after a
// response has been read checks that the server still keeps it open.
type idleCheckedConn struct {
	net.Conn
	raw syscall.RawConn
	// replied is set when a read has returned bytes since the last
	// write: the next write starts a request on a kept-alive connection.
	replied atomic.Bool
}

func (c *idleCheckedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.replied.Store(true)
	}
	return n, err
}

func (c *idleCheckedConn) Write(p []byte) (int, error) {
	if c.replied.Swap(false) && !stillOpen(c.raw) {
		return 0, errIdleClosed
	}
	return c.Conn.Write(p)
}

// dialIdleChecked dials with d and wraps connections that can be checked.
func dialIdleChecked(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil || !canCheckIdle {
			return conn, err
		}
		sc, ok := conn.(syscall.Conn)
		if !ok {
			return conn, nil
		}
		raw, err := sc.SyscallConn()
		if err != nil {
			return conn, nil // unchecked, as on a platform without the check
		}
		return &idleCheckedConn{Conn: conn, raw: raw}, nil
	}
}
