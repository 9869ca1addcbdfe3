//go:build !linux

package testenv

import (
	"errors"
	"os/exec"
	"syscall"
)

// runAs leaves cmd as it is: running as another user is Linux's here.
func runAs(cmd *exec.Cmd, asRoot bool) {}

// signalServer is Linux's: it finds the server's processes in /proc.
func signalServer(pid int, sig syscall.Signal) error {
	return errors.New("pausing PostgreSQL is supported on Linux only")
}
