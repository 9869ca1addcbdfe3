package host

import "github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"

// Stats is one reading of the host, its container limits and this
// process. Rates (per second) are differences of cumulative counters between
// two readings, so the first reading after start has none.
type Stats struct {
	// CPUPercent is the busy share of all host CPUs, 0–100.
	CPUPercent metric.Reading `json:"cpu_percent"`
	// ContainerCPUPercent is this cgroup's CPU use as a share of its quota
	// (cgroup v2 cpu.max or v1 cfs quota), 0–100; unavailable without a quota.
	ContainerCPUPercent metric.Reading `json:"container_cpu_percent"`

	// MemoryPercent is the figure alerts and the overview use: the container's
	// when a cgroup memory limit is set, else the host's. MemorySource says which.
	MemoryPercent metric.Reading `json:"memory_percent"`
	MemorySource  string         `json:"memory_source"` // "cgroup v2", "cgroup v1" or "host"
	// HostMemoryPercent is used memory as a share of host RAM, 0–100.
	HostMemoryPercent metric.Reading `json:"host_memory_percent"`
	// ContainerMemoryPercent is the cgroup's working set (usage minus
	// inactive file cache) as a share of its limit.
	ContainerMemoryPercent    metric.Reading `json:"container_memory_percent"`
	ContainerMemoryLimitBytes metric.Reading `json:"container_memory_limit_bytes"`

	// Disk I/O over whole physical block devices (loop, ram, zram, device
	// mapper and md devices and partitions are skipped so nothing is counted twice).
	DiskReadBytesPerSec  metric.Reading `json:"disk_read_bytes_per_sec"`
	DiskWriteBytesPerSec metric.Reading `json:"disk_write_bytes_per_sec"`
	DiskReadOpsPerSec    metric.Reading `json:"disk_read_ops_per_sec"`
	DiskWriteOpsPerSec   metric.Reading `json:"disk_write_ops_per_sec"`

	// Network over all interfaces but loopback.
	NetRxBytesPerSec metric.Reading `json:"net_rx_bytes_per_sec"`
	NetTxBytesPerSec metric.Reading `json:"net_tx_bytes_per_sec"`

	Process ProcessStats `json:"process"`

	// Totals are the cumulative counters the rates above are computed
	// from, for exporters whose users compute rates themselves
	// (Prometheus' rate()). The JSON report leaves them out: it has the rates.
	Totals Totals `json:"-"`
}

// Totals are cumulative figures that only grow while the monitor runs.
// Each starts at the system's own counter (since boot, for the disks and
// interfaces present at the first reading) and then adds every increase
// the system reports, device by device, so a device that appears or
// vanishes, or a counter that steps back, never makes a total go down. The
// *OK fields say which were read in this sample; a total that was not is
// to be left out, never taken as 0.
type Totals struct {
	// Over whole physical disks, as DiskReadBytesPerSec and the others.
	DiskReadBytes, DiskWrittenBytes, DiskReads, DiskWrites uint64
	// Over every interface but loopback.
	NetReceiveBytes, NetTransmitBytes uint64
	// HostCPU is the host's CPU time by mode, summed over CPUs.
	HostCPU CPUSeconds
	// ContainerCPUSeconds is the cgroup's CPU time, read whether or not
	// a quota is set; ContainerCPUQuotaCores is the quota that
	// ContainerCPUPercent is a share of, 0 when none is set.
	ContainerCPUSeconds    float64
	ContainerCPUQuotaCores float64

	DiskOK, NetOK, HostCPUOK, ContainerCPUOK bool
}

// CPUSeconds is CPU time by mode, in seconds, as the kernel counts it.
// Guest time is already inside User and Nice and is not repeated, so the
// modes add up to all the CPU time there was, and CPUPercent is the share
// of it outside Idle and Iowait.
type CPUSeconds struct {
	User, Nice, System, Idle, Iowait, Irq, Softirq, Steal float64
}

// Each calls fn for every mode, named as node_exporter names them.
func (c CPUSeconds) Each(fn func(mode string, seconds float64)) {
	for _, m := range [...]struct {
		name string
		v    float64
	}{
		{"user", c.User}, {"nice", c.Nice}, {"system", c.System}, {"idle", c.Idle},
		{"iowait", c.Iowait}, {"irq", c.Irq}, {"softirq", c.Softirq}, {"steal", c.Steal},
	} {
		fn(m.name, m.v)
	}
}

// ProcessStats is one reading of a single process: this one, or (for the
// tunnel) the MCP server it runs.
type ProcessStats struct {
	PID int32 `json:"pid"`
	// CPUPercent is CPU time over wall time, as a share of one core (as top
	// shows it), so a busy process on 4 cores can reach 400.
	CPUPercent metric.Reading `json:"cpu_percent"`
	RSSBytes   metric.Reading `json:"rss_bytes"`
	OpenFDs    metric.Reading `json:"open_fds"`
	Threads    metric.Reading `json:"threads"`
	// Goroutines is set only for this process.
	Goroutines metric.Reading `json:"goroutines"`
}
