//go:build !unix

package tunnel

import (
	"os"
	"os/exec"
)

func setProcessGroup(*exec.Cmd) {}

func signalProcess(p *os.Process, sig os.Signal) error { return p.Signal(sig) }

// exitStatus is the exit code, or 1 when the process did not exit by itself.
func exitStatus(ps *os.ProcessState) int {
	if c := ps.ExitCode(); c >= 0 {
		return c
	}
	return 1
}

// terminateSignal asks a child to exit; without SIGTERM, it is killed.
var terminateSignal os.Signal = os.Kill

// pollable returns f: only unix pipes are made non-blocking.
func pollable(f *os.File) *os.File { return f }
