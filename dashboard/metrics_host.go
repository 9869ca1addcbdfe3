package dashboard

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor/host"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// hostSeries are the host, container and process figures of the latest
// sample, one family per figure with its unit in its name. What the system
// counts cumulatively (CPU seconds, disk and network traffic) is exported
// as a _total counter for Prometheus' rate(), not as the monitor's own
// per-second rates; levels (percentages, bytes, threads) are gauges. This
// process's CPU time, resident memory, open files and goroutines are left
// to client_golang's process and Go collectors (process_cpu_seconds_total,
// process_resident_memory_bytes, process_open_fds, go_goroutines).
type hostSeries struct {
	memory                                      *prometheus.Desc
	hostMemory, containerMemory, containerLimit *prometheus.Desc
	threads                                     *prometheus.Desc
	hostCPU, containerCPU, containerQuota       *prometheus.Desc
	diskRead, diskWritten, diskReads            *prometheus.Desc
	diskWrites, netReceive, netTransmit         *prometheus.Desc
}

func newHostSeries() hostSeries {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return hostSeries{
		memory:          d("pbatunnel_memory_usage_percent", "Memory in use: of the container limit when one is set, else of the host.", "source"),
		hostMemory:      d("pbatunnel_host_memory_usage_percent", "Host memory in use, as a share of host RAM."),
		containerMemory: d("pbatunnel_container_memory_usage_percent", "The cgroup's working set (usage minus inactive file cache) as a share of its limit."),
		containerLimit:  d("pbatunnel_container_memory_limit_bytes", "The cgroup's memory limit."),
		threads:         d("pbatunnel_process_threads", "Threads of this process."),
		hostCPU:         d("pbatunnel_host_cpu_seconds_total", "Host CPU time by mode, summed over CPUs (guest time is inside user and nice).", "mode"),
		containerCPU:    d("pbatunnel_container_cpu_seconds_total", "CPU time used by the cgroup."),
		containerQuota:  d("pbatunnel_container_cpu_quota_cores", "The cgroup's CPU quota in cores; absent without a quota."),
		diskRead:        d("pbatunnel_host_disk_read_bytes_total", "Bytes read from whole physical disks."),
		diskWritten:     d("pbatunnel_host_disk_written_bytes_total", "Bytes written to whole physical disks."),
		diskReads:       d("pbatunnel_host_disk_reads_completed_total", "Reads completed by whole physical disks."),
		diskWrites:      d("pbatunnel_host_disk_writes_completed_total", "Writes completed by whole physical disks."),
		netReceive:      d("pbatunnel_host_network_receive_bytes_total", "Bytes received on every interface but loopback."),
		netTransmit:     d("pbatunnel_host_network_transmit_bytes_total", "Bytes sent on every interface but loopback."),
	}
}

func (h *hostSeries) describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{h.memory, h.hostMemory, h.containerMemory, h.containerLimit, h.threads,
		h.hostCPU, h.containerCPU, h.containerQuota, h.diskRead, h.diskWritten, h.diskReads, h.diskWrites,
		h.netReceive, h.netTransmit} {
		ch <- d
	}
}

// collect sends the figures of sys that were measured; the others are left
// out, never sent as 0.
func (h *hostSeries) collect(ch chan<- prometheus.Metric, sys *host.Stats) {
	gauge := func(d *prometheus.Desc, r metric.Reading, labels ...string) {
		if r.OK {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, r.Value, labels...)
		}
	}
	counter := func(d *prometheus.Desc, ok bool, v float64, labels ...string) {
		if ok {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
		}
	}
	gauge(h.memory, sys.MemoryPercent, sys.MemorySource)
	gauge(h.hostMemory, sys.HostMemoryPercent)
	gauge(h.containerMemory, sys.ContainerMemoryPercent)
	gauge(h.containerLimit, sys.ContainerMemoryLimitBytes)
	gauge(h.threads, sys.Process.Threads)

	t := &sys.Totals
	t.HostCPU.Each(func(mode string, seconds float64) { counter(h.hostCPU, t.HostCPUOK, seconds, mode) })
	counter(h.containerCPU, t.ContainerCPUOK, t.ContainerCPUSeconds)
	if t.ContainerCPUQuotaCores > 0 {
		ch <- prometheus.MustNewConstMetric(h.containerQuota, prometheus.GaugeValue, t.ContainerCPUQuotaCores)
	}
	counter(h.diskRead, t.DiskOK, float64(t.DiskReadBytes))
	counter(h.diskWritten, t.DiskOK, float64(t.DiskWrittenBytes))
	counter(h.diskReads, t.DiskOK, float64(t.DiskReads))
	counter(h.diskWrites, t.DiskOK, float64(t.DiskWrites))
	counter(h.netReceive, t.NetOK, float64(t.NetReceiveBytes))
	counter(h.netTransmit, t.NetOK, float64(t.NetTransmitBytes))
}
