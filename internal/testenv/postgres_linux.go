package testenv

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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

// signalServer sends sig to the postmaster pid and to each of its child
// processes (one per connection, and the background workers), found in
// /proc by their parent's pid.
func signalServer(pid int, sig syscall.Signal) error {
	pids := []int{pid}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		fields := bytes.Fields(b[i+1:])
		if len(fields) < 2 {
			continue
		}
		if ppid, _ := strconv.Atoi(string(fields[1])); ppid == pid {
			child, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			pids = append(pids, child)
		}
	}
	for _, p := range pids {
		if err := syscall.Kill(p, sig); err != nil && p == pid {
			return err
		}
	}
	return nil
}
