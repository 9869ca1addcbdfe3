package host

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// fixtureOptions points a collector at a fixture tree with proc/ and cgroup/.
func fixtureOptions(dir string) Options {
	return Options{
		ProcRoot:   filepath.Join(dir, "proc"),
		SysRoot:    filepath.Join(dir, "sys"),
		CgroupRoot: filepath.Join(dir, "cgroup"),
	}
}

// copyFixture copies a fixture tree into a temporary directory the test may
// rewrite.
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "fixture")
	if err := os.CopyFS(dst, os.DirFS(filepath.Join("testdata", name))); err != nil {
		t.Fatal(err)
	}
	return dst
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// checkReading fails unless r is measured as want (want >= 0), or is
// unavailable with a reason containing reason (want < 0).
func checkReading(t *testing.T, name string, r metric.Reading, want float64, reason string) {
	t.Helper()
	if want >= 0 {
		if !r.OK || !near(r.Value, want) {
			t.Errorf("%s = %v, want %v", name, r, want)
		}
		return
	}
	if r.OK || !strings.Contains(r.Reason, reason) {
		t.Errorf("%s = %v, want unavailable with %q", name, r, reason)
	}
}

func TestCgroupMemory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("cgroups are Linux-only")
	}
	const hostPct = 25 // fixture meminfo: 2 of 8 GiB in use
	tests := []struct {
		fixture    string
		source     string
		memPct     float64 // MemoryPercent
		contPct    float64 // ContainerMemoryPercent; < 0: unavailable
		limit      float64 // ContainerMemoryLimitBytes; < 0: unavailable
		contReason string
	}{
		// 600 MiB used − 100 MiB inactive cache of 1 GiB.
		{"v2_limit", "cgroup v2", 500.0 / 1024 * 100, 500.0 / 1024 * 100, 1 << 30, ""},
		{"v2_max", "host", hostPct, -1, -1, "no cgroup memory limit set"},
		{"v2_above_host", "host", hostPct, -1, -1, "not below host RAM"},
		// 3.5 GiB − 0.5 GiB of 4 GiB, read at the mount root.
		{"v2_namespaced", "cgroup v2", 75, 75, 4 << 30, ""},
		// 1.5 GiB − 0.5 GiB (total_inactive_file, not inactive_file) of 2 GiB.
		{"v1_limit", "cgroup v1", 50, 50, 2 << 30, ""},
		{"v1_nolimit", "host", hostPct, -1, -1, "no cgroup memory limit set"},
		// 768 MiB − 256 MiB of 1 GiB, read at the mount root.
		{"v1_namespaced", "cgroup v1", 50, 50, 1 << 30, ""},
		// 120 MB − 20 MB of 1 GB from cgroup/memory, not the v2 "0::" line.
		{"hybrid", "cgroup v1", 10, 10, 1e9, ""},
		{"none", "host", hostPct, -1, -1, "cgroup unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			c := New(fixtureOptions(filepath.Join("testdata", "cgroup", tt.fixture)))
			s := c.Collect(context.Background(), time.Now())
			checkReading(t, "HostMemoryPercent", s.HostMemoryPercent, hostPct, "")
			if s.MemorySource != tt.source {
				t.Errorf("MemorySource = %q, want %q", s.MemorySource, tt.source)
			}
			checkReading(t, "MemoryPercent", s.MemoryPercent, tt.memPct, "")
			checkReading(t, "ContainerMemoryPercent", s.ContainerMemoryPercent, tt.contPct, tt.contReason)
			checkReading(t, "ContainerMemoryLimitBytes", s.ContainerMemoryLimitBytes, tt.limit, tt.contReason)
		})
	}
}

func TestCgroupCPU(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("cgroups are Linux-only")
	}
	tests := []struct {
		name, fixture string
		file          string // the usage counter, rewritten between readings
		next          string // its content at the second reading, 2 s later
		first         string // the first reading's reason
		want          float64
		reason        string // when want < 0
		// The CPU seconds total after the second reading, which only
		// grows, and the quota in cores (0: none).
		total, quota float64
	}{
		// 0.5 s of CPU in 2 s against a quota of half a core.
		{"v2 quota", "v2_limit", "system.slice/app.service/cpu.stat", "usage_usec 1500000\n",
			"needs two samples", 50, "", 1.5, 0.5},
		// 1 s of CPU in 2 s against a quota of two cores.
		{"v1 quota", "v1_limit", "cpu,cpuacct/docker/abc/cpuacct.usage", "6000000000\n",
			"needs two samples", 25, "", 6, 2},
		{"v2 no quota", "v2_max", "user.slice/session-1.scope/cpu.stat", "usage_usec 1500000\n",
			"no cgroup CPU quota set", -1, "no cgroup CPU quota set", 1.5, 0},
		{"v1 no quota", "v1_nolimit", "cpuacct/docker/abc/cpuacct.usage", "6000000000\n",
			"no cgroup CPU quota set", -1, "no cgroup CPU quota set", 6, 0},
		// The total keeps its value rather than dropping to the new count.
		{"counter reset", "v2_limit", "system.slice/app.service/cpu.stat", "usage_usec 1\n",
			"needs two samples", -1, "went backwards", 1, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyFixture(t, filepath.Join("cgroup", tt.fixture))
			c := New(fixtureOptions(dir))
			t0 := time.Now()
			first := c.Collect(context.Background(), t0)
			checkReading(t, "first ContainerCPUPercent", first.ContainerCPUPercent, -1, tt.first)

			writeFile(t, filepath.Join(dir, "cgroup", tt.file), tt.next)
			s := c.Collect(context.Background(), t0.Add(2*time.Second))
			checkReading(t, "ContainerCPUPercent", s.ContainerCPUPercent, tt.want, tt.reason)
			if tot := s.Totals; !tot.ContainerCPUOK || !near(tot.ContainerCPUSeconds, tt.total) || tot.ContainerCPUQuotaCores != tt.quota {
				t.Errorf("container CPU total %v s (ok %v), quota %v cores; want %v s, %v cores",
					tot.ContainerCPUSeconds, tot.ContainerCPUOK, tot.ContainerCPUQuotaCores, tt.total, tt.quota)
			}
		})
	}
}

// diskstatsLine is one /proc/diskstats row with the given reads, sectors
// read, writes and sectors written.
func diskstatsLine(name string, r, rs, w, ws uint64) string {
	return fmt.Sprintf("   8       0 %s %d 0 %d 10 %d 0 %d 20 0 30 30 0 0 0 0 0 0\n", name, r, rs, w, ws)
}

func TestDiskCountsOnlyPhysicalDevices(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("device filtering reads Linux sysfs")
	}
	proc := t.TempDir()
	opts := Options{ProcRoot: proc, SysRoot: filepath.Join("testdata", "io", "sys")}
	all := []string{"vda", "sda", "sda1", "nvme0n1", "loop0", "dm-0", "zram0", "md0", "ram0"}
	physical := map[string]bool{"vda": true, "sda": true, "nvme0n1": true}
	write := func(step uint64) {
		var b strings.Builder
		for i, name := range all {
			// Every device moves, virtual ones by far more, so counting any
			// of them would show.
			k := uint64(1)
			if !physical[name] {
				k = 1000
			}
			base := uint64(i+1) * 1_000_000
			b.WriteString(diskstatsLine(name, base+step*k, base+step*k*8, base+step*k*2, base+step*k*16))
		}
		writeFile(t, filepath.Join(proc, "diskstats"), b.String())
	}

	devices, err := physicalDisks(opts.SysRoot)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(devices, ","); got != "nvme0n1,sda,vda" {
		t.Errorf("physicalDisks = %s, want nvme0n1,sda,vda", got)
	}

	// checkTotals checks the totals over the physical disks: reads, bytes
	// read, writes, bytes written.
	checkTotals := func(s Stats, r, rb, w, wb uint64) {
		t.Helper()
		tot := s.Totals
		if !tot.DiskOK || tot.DiskReads != r || tot.DiskReadBytes != rb || tot.DiskWrites != w || tot.DiskWrittenBytes != wb {
			t.Errorf("disk totals %+v, want reads %d (%d B), writes %d (%d B)", tot, r, rb, w, wb)
		}
	}
	// At step 0 the physical disks (rows 1, 2 and 4 of all) start at
	// (1+2+4) million reads, writes and sectors each.
	const base = 7_000_000

	c := New(opts)
	t0 := time.Now()
	write(0)
	s := c.Collect(context.Background(), t0)
	checkReading(t, "first DiskReadBytesPerSec", s.DiskReadBytesPerSec, -1, "needs two samples")
	checkTotals(s, base, base*512, base, base*512)

	// 10 more reads of 8 sectors and 20 more writes of 16 sectors per
	// physical disk, over 2 s.
	write(10)
	s = c.Collect(context.Background(), t0.Add(2*time.Second))
	checkReading(t, "DiskReadOpsPerSec", s.DiskReadOpsPerSec, 3*10/2.0, "")
	checkReading(t, "DiskWriteOpsPerSec", s.DiskWriteOpsPerSec, 3*20/2.0, "")
	checkReading(t, "DiskReadBytesPerSec", s.DiskReadBytesPerSec, 3*80*512/2.0, "")
	checkReading(t, "DiskWriteBytesPerSec", s.DiskWriteBytesPerSec, 3*160*512/2.0, "")
	checkTotals(s, base+30, (base+240)*512, base+60, (base+480)*512)

	// A reset counter makes that interval unavailable, not negative, and
	// the totals stay where they were.
	write(5)
	s = c.Collect(context.Background(), t0.Add(4*time.Second))
	checkReading(t, "DiskReadBytesPerSec after reset", s.DiskReadBytesPerSec, -1, "went backwards")
	checkTotals(s, base+30, (base+240)*512, base+60, (base+480)*512)
	// From there they grow by the increases again.
	write(6)
	s = c.Collect(context.Background(), t0.Add(6*time.Second))
	checkTotals(s, base+33, (base+264)*512, base+66, (base+528)*512)
}

func TestNetSkipsLoopback(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the fixture is a Linux /proc/net/dev")
	}
	proc := t.TempDir()
	write := func(n uint64) {
		writeFile(t, filepath.Join(proc, "net", "dev"), fmt.Sprintf(`Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: %d 1 0 0 0 0 0 0 %d 1 0 0 0 0 0 0
  eth0: %d 1 0 0 0 0 0 0 %d 1 0 0 0 0 0 0
 wlan0: %d 1 0 0 0 0 0 0 %d 1 0 0 0 0 0 0
`, 1e6*n, 1e6*n, 100*n, 10*n, 300*n, 30*n))
	}
	c := New(Options{ProcRoot: proc, SysRoot: t.TempDir()})
	t0 := time.Now()
	write(1)
	s := c.Collect(context.Background(), t0)
	checkReading(t, "first NetRxBytesPerSec", s.NetRxBytesPerSec, -1, "needs two samples")
	write(3) // eth0 + wlan0 gain 800 B in and 80 B out over 4 s
	s = c.Collect(context.Background(), t0.Add(4*time.Second))
	checkReading(t, "NetRxBytesPerSec", s.NetRxBytesPerSec, 200, "")
	checkReading(t, "NetTxBytesPerSec", s.NetTxBytesPerSec, 20, "")
	if tot := s.Totals; !tot.NetOK || tot.NetReceiveBytes != 1200 || tot.NetTransmitBytes != 120 {
		t.Errorf("network totals %d B in, %d B out (ok %v), want 1200 and 120", tot.NetReceiveBytes, tot.NetTransmitBytes, tot.NetOK)
	}
}

// TestHostCPUSeconds reads CPU seconds by mode from a fixture /proc/stat
// and checks that CPUPercent is the share of them outside idle and iowait.
func TestHostCPUSeconds(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the fixture is a Linux /proc/stat")
	}
	proc := t.TempDir()
	// Ticks of 1/100 s: user nice system idle iowait irq softirq steal
	// guest guest_nice. Guest time is inside user and nice already.
	write := func(ticks string) {
		writeFile(t, filepath.Join(proc, "stat"), "cpu  "+ticks+"\ncpu0 "+ticks+"\n")
	}
	c := New(Options{ProcRoot: proc, SysRoot: t.TempDir()})
	t0 := time.Now()
	write("1000 100 500 8000 200 10 20 30 40 5")
	s := c.Collect(context.Background(), t0)
	want := CPUSeconds{User: 10, Nice: 1, System: 5, Idle: 80, Iowait: 2, Irq: 0.1, Softirq: 0.2, Steal: 0.3}
	if !s.Totals.HostCPUOK || s.Totals.HostCPU != want {
		t.Errorf("first CPU seconds %+v (ok %v), want %+v", s.Totals.HostCPU, s.Totals.HostCPUOK, want)
	}
	// 3 s busy (user 2, system 1) and 1 s idle: 75 %.
	write("1200 100 600 8100 200 10 20 30 40 5")
	s = c.Collect(context.Background(), t0.Add(time.Second))
	checkReading(t, "CPUPercent", s.CPUPercent, 75, "")
	if got := s.Totals.HostCPU; !near(got.User, 12) || !near(got.System, 6) || !near(got.Idle, 81) {
		t.Errorf("CPU seconds %+v, want user 12, system 6, idle 81", got)
	}
	// Idle stepping back (as it can when a CPU goes offline) leaves its
	// total where it was.
	write("1300 100 600 7000 200 10 20 30 40 5")
	s = c.Collect(context.Background(), t0.Add(2*time.Second))
	if got := s.Totals.HostCPU; !near(got.User, 13) || !near(got.Idle, 81) {
		t.Errorf("after idle stepped back: %+v, want user 13, idle still 81", got)
	}
}

func TestMonotonic(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want float64
	}{
		{"starts at the first reading", []float64{5}, 5},
		{"adds increases", []float64{5, 7, 10}, 10},
		{"skips a step back, then adds from there", []float64{5, 7, 2, 4}, 9},
		{"a repeated value adds nothing", []float64{3, 3, 3}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m monotonic
			var got float64
			for _, v := range tt.in {
				got = m.update(v)
			}
			if got != tt.want {
				t.Errorf("total %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseProcStat(t *testing.T) {
	// The command name may hold spaces and parentheses.
	line := "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 500 0 0 0 " +
		"150 50 0 0 20 0 7 0 123456 1000000 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	ps, err := parseProcStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	want := procStat{state: 'S', utime: 150, stime: 50, threads: 7, startTime: 123456, rssPages: 2560}
	if ps != want {
		t.Errorf("parseProcStat = %+v, want %+v", ps, want)
	}
	if _, err := parseProcStat([]byte("4242 (x) S 1 2 3")); err == nil {
		t.Error("parseProcStat accepted a truncated line")
	}
}

func TestFirstCollectHasNoRates(t *testing.T) {
	c := New(Options{})
	first := c.Collect(context.Background(), time.Now())
	rates := func(s Stats) map[string]metric.Reading {
		return map[string]metric.Reading{
			"CPUPercent":           s.CPUPercent,
			"DiskReadBytesPerSec":  s.DiskReadBytesPerSec,
			"DiskWriteBytesPerSec": s.DiskWriteBytesPerSec,
			"DiskReadOpsPerSec":    s.DiskReadOpsPerSec,
			"DiskWriteOpsPerSec":   s.DiskWriteOpsPerSec,
			"NetRxBytesPerSec":     s.NetRxBytesPerSec,
			"NetTxBytesPerSec":     s.NetTxBytesPerSec,
			"Process.CPUPercent":   s.Process.CPUPercent,
		}
	}
	noDisks := strings.Contains(first.DiskReadBytesPerSec.Reason, "no physical block devices")
	for name, r := range rates(first) {
		if r.OK || r.Reason == "" {
			t.Errorf("first %s = %v, want unavailable with a reason", name, r)
		}
	}

	time.Sleep(200 * time.Millisecond) // long enough for CPU ticks to pass
	second := c.Collect(context.Background(), time.Now())
	for name, r := range rates(second) {
		if noDisks && strings.HasPrefix(name, "Disk") {
			t.Logf("%s: %v (this machine has no physical disk)", name, r)
			continue
		}
		if !r.OK || r.Value < 0 {
			t.Errorf("second %s = %v, want measured ≥ 0", name, r)
		}
	}
}

func TestRealMachine(t *testing.T) {
	c := New(Options{})
	c.Collect(context.Background(), time.Now())
	time.Sleep(200 * time.Millisecond)
	s := c.Collect(context.Background(), time.Now())

	if r := s.CPUPercent; !r.OK || r.Value < 0 || r.Value > 100 {
		t.Errorf("CPUPercent = %v, want measured in [0, 100]", r)
	}
	if r := s.HostMemoryPercent; !r.OK || r.Value <= 0 || r.Value > 100 {
		t.Errorf("HostMemoryPercent = %v, want measured in (0, 100]", r)
	}
	if !s.MemoryPercent.OK || s.MemorySource == "" {
		t.Errorf("MemoryPercent = %v from %q, want measured with a source", s.MemoryPercent, s.MemorySource)
	}
	p := s.Process
	if p.PID != int32(os.Getpid()) {
		t.Errorf("Process.PID = %d, want %d", p.PID, os.Getpid())
	}
	if !p.RSSBytes.OK || p.RSSBytes.Value <= 0 {
		t.Errorf("RSSBytes = %v, want measured > 0", p.RSSBytes)
	}
	for name, r := range map[string]metric.Reading{"OpenFDs": p.OpenFDs, "Threads": p.Threads, "Goroutines": p.Goroutines} {
		if !r.OK || r.Value < 1 {
			t.Errorf("%s = %v, want measured ≥ 1", name, r)
		}
	}
	if !p.CPUPercent.OK || p.CPUPercent.Value < 0 {
		t.Errorf("Process.CPUPercent = %v, want measured ≥ 0", p.CPUPercent)
	}
	t.Logf("cpu %v, memory %v (%s), container memory %v, container cpu %v, disk r/w %v/%v B/s, net rx/tx %v/%v B/s",
		s.CPUPercent, s.MemoryPercent, s.MemorySource, s.ContainerMemoryPercent, s.ContainerCPUPercent,
		s.DiskReadBytesPerSec, s.DiskWriteBytesPerSec, s.NetRxBytesPerSec, s.NetTxBytesPerSec)
}

func TestProcessCollectorExited(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start a child: %v", err)
	}
	pid := int32(cmd.Process.Pid)
	p := NewProcess(pid)
	// A first reading while it may still run must not matter either way.
	p.Collect(context.Background(), time.Now())
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}

	want := fmt.Sprintf("process %d has exited", pid)
	for i := range 2 { // and it stays gone
		s := p.Collect(context.Background(), time.Now())
		if s.PID != pid {
			t.Errorf("PID = %d, want %d", s.PID, pid)
		}
		for name, r := range map[string]metric.Reading{
			"CPUPercent": s.CPUPercent, "RSSBytes": s.RSSBytes, "OpenFDs": s.OpenFDs,
			"Threads": s.Threads, "Goroutines": s.Goroutines,
		} {
			if r.OK || r.Reason != want {
				t.Errorf("reading %d: %s = %v, want unavailable %q", i, name, r, want)
			}
		}
	}
}

func TestProcessCollectorOtherProcess(t *testing.T) {
	cmd := exec.Command("sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start a child: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	p := NewProcess(int32(cmd.Process.Pid))
	p.Collect(context.Background(), time.Now())
	time.Sleep(50 * time.Millisecond)
	s := p.Collect(context.Background(), time.Now())
	if !s.RSSBytes.OK || s.RSSBytes.Value <= 0 {
		t.Errorf("RSSBytes = %v, want measured > 0", s.RSSBytes)
	}
	if !s.CPUPercent.OK || s.CPUPercent.Value < 0 {
		t.Errorf("CPUPercent = %v, want measured ≥ 0", s.CPUPercent)
	}
	if s.Goroutines.OK {
		t.Errorf("Goroutines = %v for another process, want unavailable", s.Goroutines)
	}
}
