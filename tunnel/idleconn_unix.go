//go:build unix

package tunnel

import "syscall"

// canCheckIdle says stillOpen works here.
const canCheckIdle = true

// stillOpen reports whether the server still keeps the connection open
// and has sent nothing on it since its last response: it peeks at the
// socket without waiting. Nothing to read is the only good answer: 0
// bytes is the end of file, more is a response to no request. Control,
// not Read: the Transport's reading goroutine holds the connection's read
// lock while it waits, and the peek must not wait for it.
func stillOpen(rc syscall.RawConn) bool {
	open := false
	err := rc.Control(func(fd uintptr) {
		var b [1]byte
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		open = err == syscall.EAGAIN || err == syscall.EWOULDBLOCK
	})
	return err == nil && open
}
