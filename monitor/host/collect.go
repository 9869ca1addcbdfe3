package host

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/shirou/gopsutil/v4/common"
	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/mem"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// systemOptions locate the kernel's pseudo-filesystems. The zero value means
// the real ones; tests point them at fixture trees under testdata.
type Options struct {
	ProcRoot string // default "/proc"
	SysRoot  string // default "/sys"
	// CgroupRoot is where the cgroup hierarchy is mounted. Default
	// SysRoot/fs/cgroup, i.e. "/sys/fs/cgroup".
	CgroupRoot string
}

func (o Options) withDefaults() Options {
	if o.ProcRoot == "" {
		o.ProcRoot = "/proc"
	}
	if o.SysRoot == "" {
		o.SysRoot = "/sys"
	}
	if o.CgroupRoot == "" {
		o.CgroupRoot = filepath.Join(o.SysRoot, "fs", "cgroup")
	}
	return o
}

// Collector reads Stats. It is owned by the sampler goroutine and
// not safe for concurrent use.
//
// Rates are differences against the collector's own previous reading, never
// against state shared with other callers (as cpu.Percent(0, …) would).
type Collector struct {
	opts Options
	// env is handed to gopsutil through the context, so it reads the same
	// roots as our own file reads without touching the process environment.
	env   common.EnvMap
	files pseudoFileReader

	cpuPrev  cpu.TimesStat
	cpuHave  bool
	cpuTotal [8]monotonic // by mode, in CPUSeconds' order

	cgroup cgroupState
	disk   diskState
	net    netState
	proc   *Process
}

func New(opts Options) *Collector {
	opts = opts.withDefaults()
	c := &Collector{
		opts: opts,
		env: common.EnvMap{
			common.HostProcEnvKey: opts.ProcRoot,
			common.HostSysEnvKey:  opts.SysRoot,
		},
		proc: NewProcess(int32(os.Getpid())),
	}
	c.proc.procRoot = opts.ProcRoot
	c.cgroup = detectCgroup(opts.ProcRoot, opts.CgroupRoot)
	return c
}

// collect takes one reading. now is the wall time the rates are computed
// against; pass time.Now() (its monotonic reading makes the intervals immune
// to clock steps).
func (c *Collector) Collect(ctx context.Context, now time.Time) Stats {
	gctx := context.WithValue(ctx, common.EnvKey, c.env)
	var s Stats
	s.CPUPercent = c.hostCPU(gctx, &s.Totals)

	var hostTotal uint64 // 0 when unknown
	if vm, err := mem.VirtualMemoryWithContext(gctx); err != nil {
		s.HostMemoryPercent = errReading("host memory", err)
	} else {
		s.HostMemoryPercent = metric.Measured(vm.UsedPercent)
		hostTotal = vm.Total
	}
	c.cgroupMemory(&s, hostTotal)
	s.ContainerCPUPercent = c.cgroupCPU(now, &s.Totals)

	c.diskRates(gctx, now, &s)
	c.netRates(gctx, now, &s)
	s.Process = c.proc.Collect(ctx, now)
	return s
}

// hostCPU is the busy share of all CPUs since the previous reading. It
// also sets the CPU seconds in tot.
func (c *Collector) hostCPU(ctx context.Context, tot *Totals) metric.Reading {
	times, err := cpu.TimesWithContext(ctx, false)
	if err != nil {
		return errReading("CPU times", err)
	}
	if len(times) == 0 {
		// gopsutil reports an unreadable /proc/stat as no rows, not an error.
		return metric.Unavailable("CPU times unreadable (%s)", filepath.Join(c.opts.ProcRoot, "stat"))
	}
	cur := times[0]
	modes := [...]float64{cur.User, cur.Nice, cur.System, cur.Idle, cur.Iowait, cur.Irq, cur.Softirq, cur.Steal}
	for i, v := range modes {
		modes[i] = c.cpuTotal[i].update(v)
	}
	tot.HostCPU = CPUSeconds{User: modes[0], Nice: modes[1], System: modes[2], Idle: modes[3],
		Iowait: modes[4], Irq: modes[5], Softirq: modes[6], Steal: modes[7]}
	tot.HostCPUOK = true
	prev, had := c.cpuPrev, c.cpuHave
	c.cpuPrev, c.cpuHave = cur, true
	if !had {
		return metric.NoData("needs two samples")
	}
	total0, busy0 := cpuBusy(prev)
	total1, busy1 := cpuBusy(cur)
	if total1 <= total0 {
		return metric.NoData("no CPU time elapsed since the last sample")
	}
	return metric.Measured(clampPercent((busy1 - busy0) / (total1 - total0) * 100))
}

// cpuBusy returns all and busy CPU seconds. Linux already counts guest time
// in user and nice, so it is taken out of the total to avoid counting it twice
// (elsewhere the guest fields are zero).
func cpuBusy(t cpu.TimesStat) (total, busy float64) {
	total = t.Total() - t.Guest - t.GuestNice
	return total, total - t.Idle - t.Iowait
}

func clampPercent(v float64) float64 {
	return min(max(v, 0), 100)
}
