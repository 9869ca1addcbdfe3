package testenv

import (
	"os/exec"
	"syscall"
)

// runAs makes cmd run as nobody when the tests run as root, and die with
// the test binary should it be killed before it stops the server.
func runAs(cmd *exec.Cmd, asRoot bool) {
	a := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if asRoot {
		a.Credential = &syscall.Credential{Uid: nobody, Gid: nobody}
	}
	cmd.SysProcAttr = a
}
