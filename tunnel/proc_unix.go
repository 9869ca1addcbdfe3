//go:build unix

package tunnel

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// setProcessGroup starts the child in a process group of its own. Signals
// the tunnel forwards then reach the whole group, so a server started
// through a wrapper (npx, a shell script) stops with its wrapper; and a
// Ctrl-C in a terminal reaches the child once, through the tunnel, rather
// than twice.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// signalProcess sends sig to the child's process group, or to the child
// alone when the group is gone.
func signalProcess(p *os.Process, sig os.Signal) error {
	s, ok := sig.(syscall.Signal)
	if !ok {
		return p.Signal(sig)
	}
	err := syscall.Kill(-p.Pid, s)
	if errors.Is(err, syscall.ESRCH) {
		return p.Signal(sig)
	}
	return err
}

// exitStatus is the status a shell would report: the exit code, or 128
// plus the number of the signal that ended the process.
func exitStatus(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// terminateSignal asks a child to exit.
var terminateSignal os.Signal = syscall.SIGTERM

// pollable returns os.Stdin or os.Stdout, when f is one of them and a pipe
// or socket, as a non-blocking file that the runtime's poller serves: reads
// and writes then wait in the poller rather than each holding a thread in
// a system call, which at tens of thousands of lines a second costs a
// quarter of the throughput. The descriptor is duplicated, so the original
// stays open whatever becomes of the copy. A terminal or file, or a pipe
// that stderr shares (2>&1), is left as it is: non-blocking mode belongs to
// the pipe, not the descriptor, and would make the log's writes fail where
// they should wait.
func pollable(f *os.File) *os.File {
	if f != os.Stdin && f != os.Stdout {
		return f
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return f
	}
	fd := -1
	if rc.Control(func(u uintptr) { fd = int(u) }) != nil || fd < 0 {
		return f
	}
	var st, errSt syscall.Stat_t
	if syscall.Fstat(fd, &st) != nil {
		return f
	}
	if t := st.Mode & syscall.S_IFMT; t != syscall.S_IFIFO && t != syscall.S_IFSOCK {
		return f
	}
	if syscall.Fstat(2, &errSt) == nil && errSt.Dev == st.Dev && errSt.Ino == st.Ino {
		return f
	}
	syscall.ForkLock.RLock()
	dup, err := syscall.Dup(fd)
	if err == nil {
		syscall.CloseOnExec(dup)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return f
	}
	if err := syscall.SetNonblock(dup, true); err != nil {
		syscall.Close(dup)
		return f
	}
	return os.NewFile(uintptr(dup), f.Name())
}
