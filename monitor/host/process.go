package host

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/process"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// errExited marks a process that is gone (or whose PID now belongs to
// another process).
var errExited = errors.New("process has exited")

// Process reads ProcessStats for one PID: this process, or the MCP
// server the tunnel runs. Like Collector it belongs to one goroutine.
//
// On Linux one read of /proc/<pid>/stat gives CPU times, threads and RSS
// (gopsutil would read stat, statm and status for the same), and the open
// file count comes from a stat of /proc/<pid>/fd. Elsewhere it uses a
// gopsutil handle, kept across samples.
type Process struct {
	pid      int32
	self     bool   // pid is this process: Goroutines is reported
	procRoot string // "/proc" unless a test says otherwise
	gone     bool   // once exited, always exited: the PID may be reused

	// Linux: the files read, and the start time from the first reading,
	// which spots PID reuse.
	statPath, fdPath string
	files            pseudoFileReader
	startTime        uint64
	startKnown       bool
	// Elsewhere: the gopsutil handle.
	handle *process.Process

	cpuPrev float64 // cumulative user+system CPU seconds
	cpuAt   time.Time
	cpuHave bool
}

func NewProcess(pid int32) *Process {
	return &Process{pid: pid, self: int(pid) == os.Getpid(), procRoot: "/proc"}
}

func (p *Process) Collect(ctx context.Context, now time.Time) ProcessStats {
	if p.gone {
		return p.exited()
	}
	st := ProcessStats{PID: p.pid}
	var cpuSec float64
	var err error
	if runtime.GOOS == "linux" {
		cpuSec, err = p.readLinux(&st)
	} else {
		cpuSec, err = p.readGopsutil(ctx, &st)
	}
	if errors.Is(err, errExited) {
		p.gone = true
		return p.exited()
	}

	if err != nil {
		st.CPUPercent = errReading("process CPU time", err)
		// Whatever the failed read did not get to is unavailable for the
		// same reason, never a zero.
		for _, r := range []*metric.Reading{&st.RSSBytes, &st.OpenFDs, &st.Threads} {
			if !r.OK && r.Reason == "" {
				*r = st.CPUPercent
			}
		}
	} else {
		st.CPUPercent = p.cpuPercent(cpuSec, now)
	}
	if p.self {
		st.Goroutines = metric.Measured(float64(runtime.NumGoroutine()))
	} else {
		st.Goroutines = metric.Unavailable("goroutines are counted only for this process")
	}
	return st
}

// cpuPercent is CPU time over wall time since the previous reading, as a
// share of one core.
func (p *Process) cpuPercent(cpuSec float64, now time.Time) metric.Reading {
	prev, at, had := p.cpuPrev, p.cpuAt, p.cpuHave
	p.cpuPrev, p.cpuAt, p.cpuHave = cpuSec, now, true
	switch dt := now.Sub(at).Seconds(); {
	case !had:
		return metric.NoData("needs two samples")
	case dt <= 0:
		return metric.NoData("no time elapsed since the last sample")
	case cpuSec < prev:
		return metric.Unavailable("process CPU time went backwards")
	default:
		return metric.Measured((cpuSec - prev) / dt * 100)
	}
}

func (p *Process) exited() ProcessStats {
	r := metric.Unavailable("process %d has exited", p.pid)
	return ProcessStats{PID: p.pid, CPUPercent: r, RSSBytes: r, OpenFDs: r, Threads: r, Goroutines: r}
}

// readLinux fills RSS, threads and open files from /proc and returns the
// process's CPU seconds so far.
func (p *Process) readLinux(st *ProcessStats) (float64, error) {
	if p.statPath == "" {
		dir := filepath.Join(p.procRoot, strconv.Itoa(int(p.pid)))
		p.statPath, p.fdPath = filepath.Join(dir, "stat"), filepath.Join(dir, "fd")
	}
	b, err := p.files.read(p.statPath)
	if errors.Is(err, fs.ErrNotExist) && !p.self {
		// This process is plainly alive, so for it a missing file means
		// /proc is not what we think, which is an error worth showing.
		return 0, errExited
	}
	var ps procStat
	if err == nil {
		ps, err = parseProcStat(b)
	}
	if err != nil {
		r := errReading("process stat", err)
		st.RSSBytes, st.OpenFDs, st.Threads = r, r, r
		return 0, err
	}
	if !p.startKnown {
		p.startTime, p.startKnown = ps.startTime, true
	}
	// A zombie has released its memory and files; a changed start time
	// means the PID was reused by another process.
	if ps.state == 'Z' || ps.state == 'X' || ps.startTime != p.startTime {
		return 0, errExited
	}
	st.RSSBytes = metric.Measured(float64(ps.rssPages) * float64(os.Getpagesize()))
	st.Threads = metric.Measured(float64(ps.threads))
	st.OpenFDs = countFDs(p.fdPath)
	return float64(ps.utime+ps.stime) / cpu.ClocksPerSec, nil
}

// countFDs counts a process's open files. Since Linux 6.2 the size of
// /proc/<pid>/fd is that count, which saves listing the directory; older
// kernels report 0 and the directory is listed.
func countFDs(dir string) metric.Reading {
	fi, err := os.Stat(dir)
	if err != nil {
		return errReading("open files", err)
	}
	if fi.Size() > 0 {
		return metric.Measured(float64(fi.Size()))
	}
	f, err := os.Open(dir)
	if err != nil {
		return errReading("open files", err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return errReading("open files", err)
	}
	return metric.Measured(float64(len(names)))
}

// procStat is what we use of /proc/<pid>/stat.
type procStat struct {
	state        byte
	utime, stime uint64 // clock ticks
	threads      uint64
	startTime    uint64 // clock ticks after boot
	rssPages     uint64
}

// parseProcStat parses /proc/<pid>/stat (see proc_pid_stat(5)). The command
// name in field 2 is in parentheses and may itself hold spaces and
// parentheses, so fields are counted from the last ')'.
func parseProcStat(b []byte) (procStat, error) {
	var ps procStat
	end := -1
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == ')' {
			end = i
			break
		}
	}
	if end < 0 {
		return ps, errors.New("malformed stat: no command name")
	}
	rest := b[end+1:]
	field := 2
	for field < 24 {
		for len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\n') {
			rest = rest[1:]
		}
		if len(rest) == 0 {
			return ps, fmt.Errorf("malformed stat: %d fields", field)
		}
		n := 0
		for n < len(rest) && rest[n] != ' ' && rest[n] != '\n' {
			n++
		}
		tok := rest[:n]
		rest = rest[n:]
		field++
		var dst *uint64
		switch field {
		case 3:
			ps.state = tok[0]
			continue
		case 14:
			dst = &ps.utime
		case 15:
			dst = &ps.stime
		case 20:
			dst = &ps.threads
		case 22:
			dst = &ps.startTime
		case 24:
			dst = &ps.rssPages
		default:
			continue
		}
		v, ok := parseUintBytes(tok)
		if !ok {
			return ps, fmt.Errorf("malformed stat: field %d is %.20q", field, tok)
		}
		*dst = v
	}
	return ps, nil
}

// readGopsutil is readLinux for other systems, through gopsutil.
func (p *Process) readGopsutil(ctx context.Context, st *ProcessStats) (float64, error) {
	if p.handle == nil {
		h, err := process.NewProcessWithContext(ctx, p.pid)
		if errors.Is(err, process.ErrorProcessNotRunning) {
			return 0, errExited
		}
		if err != nil {
			r := errReading("process", err)
			st.RSSBytes, st.OpenFDs, st.Threads = r, r, r
			return 0, err
		}
		p.handle = h
	}
	// IsRunning also compares creation times, so it catches PID reuse.
	if running, err := p.handle.IsRunningWithContext(ctx); err == nil && !running {
		return 0, errExited
	}
	if mi, err := p.handle.MemoryInfoWithContext(ctx); err != nil {
		st.RSSBytes = errReading("process memory", err)
	} else {
		st.RSSBytes = metric.Measured(float64(mi.RSS))
	}
	if n, err := p.handle.NumFDsWithContext(ctx); err != nil {
		st.OpenFDs = errReading("open files", err)
	} else {
		st.OpenFDs = metric.Measured(float64(n))
	}
	if n, err := p.handle.NumThreadsWithContext(ctx); err != nil {
		st.Threads = errReading("threads", err)
	} else {
		st.Threads = metric.Measured(float64(n))
	}
	t, err := p.handle.TimesWithContext(ctx)
	if err != nil {
		return 0, err
	}
	return t.User + t.System, nil
}
