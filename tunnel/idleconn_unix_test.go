//go:build unix

package tunnel

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// A kept-alive connection the server has closed, or on which it sent
// bytes no request asked for, refuses the next request's first write,
// writing nothing, so that the Transport sends the request again on a new
// connection; an open one takes it.
func TestIdleCheckedConn(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dial := dialIdleChecked(&net.Dialer{Timeout: 5 * time.Second})

	for _, tt := range []struct {
		name   string
		server func(c net.Conn) // after its response
		want   error
	}{
		{"open", func(net.Conn) {}, nil},
		{"closed", func(c net.Conn) { c.Close() }, errIdleClosed},
		{"unasked bytes", func(c net.Conn) { io.WriteString(c, "HTTP/1.1 200 OK\r\n") }, errIdleClosed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := dial(t.Context(), "tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			srv, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()

			// A request and its response, then the server's move.
			if _, err := io.WriteString(conn, "request 1"); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 64)
			if _, err := srv.Read(buf); err != nil {
				t.Fatal(err)
			}
			io.WriteString(srv, "response 1")
			if _, err := conn.Read(buf); err != nil {
				t.Fatal(err)
			}
			tt.server(srv)
			time.Sleep(50 * time.Millisecond) // for the close or bytes to arrive

			n, err := io.WriteString(conn, "request 2")
			if !errors.Is(err, tt.want) {
				t.Fatalf("second request: wrote %d, %v; want %v", n, err, tt.want)
			}
			if err != nil && n != 0 {
				t.Errorf("wrote %d bytes of a refused request, want 0", n)
			}
		})
	}
}
