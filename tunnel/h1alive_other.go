//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package tunnel

import "syscall"

// h1Supported is false: see the other build of it.
const h1Supported = false

func alive(syscall.RawConn) bool { return false }
