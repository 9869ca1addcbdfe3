//go:build !unix

package tunnel

import "syscall"

// canCheckIdle is false: without a way to peek at a socket, connections
// are not wrapped, and a closed one is noticed by the Transport alone.
const canCheckIdle = false

func stillOpen(syscall.RawConn) bool { return true }
