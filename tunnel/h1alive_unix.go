//go:build linux || darwin || freebsd || netbsd || openbsd

package tunnel

import "syscall"

// h1Supported reports whether alive works here: without it, the tunnel
// could not tell a kept-alive connection the server has closed, and uses
// http.Transport instead of h1Client.
const h1Supported = true

// alive reports whether the server still keeps the connection open, and has sent
// nothing on it since its last response: it peeks at the socket without
// waiting, as http.Transport's reading goroutine would have seen an end of
// file or unasked-for bytes there by now.
func alive(rc syscall.RawConn) bool {
	ok := false
	var b [1]byte
	err := rc.Read(func(fd uintptr) bool {
		// Nothing to read is the only good answer: 0 bytes is the end of
		// file, more is a response to no request.
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		ok = err == syscall.EAGAIN || err == syscall.EWOULDBLOCK
		return true
	})
	return err == nil && ok
}
