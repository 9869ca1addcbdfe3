package host

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/shirou/gopsutil/v4/disk"
	psnet "github.com/shirou/gopsutil/v4/net"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// rateCounters turns named cumulative counters (per disk, per interface)
// into per-second rates and into totals over the names that only grow.
// Differencing each name on its own, rather than a sum, keeps a device
// that appears or vanishes between readings from showing up as a jump or
// a negative rate, or a total going down.
type rateCounters struct {
	prev, cur map[string][4]uint64 // swapped each reading, so not reallocated
	prevAt    time.Time
	primed    bool
	// totals start at the first reading's sum and then add every name's
	// increase (see Totals).
	totals [4]uint64
}

// begin starts a reading.
func (r *rateCounters) begin() {
	if r.cur == nil {
		r.cur = make(map[string][4]uint64)
	}
	clear(r.cur)
}

func (r *rateCounters) add(name string, v [4]uint64) { r.cur[name] = v }

// finish ends a reading taken at now and returns the per-second increase of
// each counter, summed over the names seen in both readings, or why there is
// none (an unavailable Reading; rates are valid only when why.OK), and the
// totals, valid either way. A reading that failed should not be finished,
// so the next one is differenced against the last good one.
func (r *rateCounters) finish(now time.Time) (rates [4]float64, totals [4]uint64, why metric.Reading) {
	prev, prevAt, primed := r.prev, r.prevAt, r.primed
	r.prev, r.cur, r.prevAt, r.primed = r.cur, prev, now, true
	cur := r.prev
	if !primed {
		for _, v := range cur {
			for i := range v {
				r.totals[i] += v[i]
			}
		}
		return rates, r.totals, metric.NoData("needs two samples")
	}
	var sum [4]uint64
	backwards := ""
	for name, v := range cur {
		p, ok := prev[name]
		if !ok {
			continue // new since the last reading: no baseline yet
		}
		for i := range v {
			if v[i] < p[i] {
				// Reset, or another device under the same name: its new
				// value is the next baseline, and this interval has no rate.
				backwards = name
				continue
			}
			sum[i] += v[i] - p[i]
		}
	}
	for i := range sum {
		r.totals[i] += sum[i]
	}
	if backwards != "" {
		return rates, r.totals, metric.Unavailable("counters of %s went backwards (reset?)", backwards)
	}
	dt := now.Sub(prevAt).Seconds()
	if dt <= 0 {
		return rates, r.totals, metric.NoData("no time elapsed since the last sample")
	}
	for i := range sum {
		rates[i] = float64(sum[i]) / dt
	}
	return rates, r.totals, metric.Reading{OK: true}
}

// monotonic keeps one cumulative figure read from the system (CPU seconds)
// from going down: it starts at the first reading and then adds each
// increase, skipping decreases, which the kernel's counters show when a
// CPU goes offline or a cgroup is recreated.
type monotonic struct {
	prev, total float64
	have        bool
}

func (m *monotonic) update(v float64) float64 {
	switch {
	case !m.have:
		m.total = v
	case v > m.prev:
		m.total += v - m.prev
	}
	m.prev, m.have = v, true
	return m.total
}

// diskState counts I/O over whole physical block devices only.
type diskState struct {
	rates rateCounters
	// devices are the whole physical disks, rescanned every diskRescan so a
	// hot-plugged disk is picked up without listing /sys/block every sample.
	devices   []string
	scannedAt time.Time
	scanErr   error
}

const diskRescan = time.Minute

// physicalDisks lists the names under <sysRoot>/block that have a device
// link: real disks (sda, vda, nvme0n1, mmcblk0) have one; partitions are not
// listed there at all, and loop, ram, zram, dm-* and md* are virtual and
// have none. Counting only these means nothing is counted twice (a
// partition or a dm volume repeats its disk's I/O) and virtual devices do
// not pass for disk traffic.
func physicalDisks(sysRoot string) ([]string, error) {
	dir := filepath.Join(sysRoot, "block")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if exists(filepath.Join(dir, e.Name(), "device")) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

func (c *Collector) diskRates(ctx context.Context, now time.Time, s *Stats) {
	set := func(r metric.Reading) {
		s.DiskReadBytesPerSec, s.DiskWriteBytesPerSec = r, r
		s.DiskReadOpsPerSec, s.DiskWriteOpsPerSec = r, r
	}
	d := &c.disk
	// Elsewhere there is no /sys to tell disks from partitions; gopsutil
	// reports whole disks (darwin) or volumes (windows) there anyway.
	linux := runtime.GOOS == "linux"
	if linux && (d.scannedAt.IsZero() || now.Sub(d.scannedAt) >= diskRescan || now.Before(d.scannedAt)) {
		d.devices, d.scanErr = physicalDisks(c.opts.SysRoot)
		d.scannedAt = now
	}
	if linux {
		if d.scanErr != nil {
			set(errReading("block devices", d.scanErr))
			return
		}
		if len(d.devices) == 0 {
			// Asking gopsutil for no names would mean all of them.
			set(metric.Unavailable("no physical block devices under %s", filepath.Join(c.opts.SysRoot, "block")))
			return
		}
	}
	stats, err := disk.IOCountersWithContext(ctx, d.devices...)
	if err != nil {
		set(errReading("disk counters", err))
		return
	}
	d.rates.begin()
	for name, st := range stats {
		d.rates.add(name, [4]uint64{st.ReadBytes, st.WriteBytes, st.ReadCount, st.WriteCount})
	}
	r, tot, why := d.rates.finish(now)
	t := &s.Totals
	t.DiskReadBytes, t.DiskWrittenBytes, t.DiskReads, t.DiskWrites = tot[0], tot[1], tot[2], tot[3]
	t.DiskOK = true
	if !why.OK {
		set(why)
		return
	}
	s.DiskReadBytesPerSec = metric.Measured(r[0])
	s.DiskWriteBytesPerSec = metric.Measured(r[1])
	s.DiskReadOpsPerSec = metric.Measured(r[2])
	s.DiskWriteOpsPerSec = metric.Measured(r[3])
}

// netState counts traffic over every interface but loopback.
type netState struct {
	rates rateCounters
	// loopback caches each interface's loopback flag, since looking it up
	// lists every interface. Cleared when it grows well past the interfaces
	// present, so churning container veths cannot grow it without bound.
	loopback map[string]bool
}

func (n *netState) isLoopback(name string) bool {
	if name == "lo" {
		return true
	}
	if lb, ok := n.loopback[name]; ok {
		return lb
	}
	// An interface that cannot be looked up (gone, or in another network
	// namespace than /proc/net/dev's) is taken as not loopback.
	ifi, err := net.InterfaceByName(name)
	lb := err == nil && ifi.Flags&net.FlagLoopback != 0
	if n.loopback == nil {
		n.loopback = make(map[string]bool)
	}
	n.loopback[name] = lb
	return lb
}

func (c *Collector) netRates(ctx context.Context, now time.Time, s *Stats) {
	n := &c.net
	stats, err := psnet.IOCountersWithContext(ctx, true)
	if err != nil {
		r := errReading("network counters", err)
		s.NetRxBytesPerSec, s.NetTxBytesPerSec = r, r
		return
	}
	if len(n.loopback) > 2*len(stats)+8 {
		clear(n.loopback)
	}
	n.rates.begin()
	for _, st := range stats {
		if !n.isLoopback(st.Name) {
			n.rates.add(st.Name, [4]uint64{st.BytesRecv, st.BytesSent})
		}
	}
	r, tot, why := n.rates.finish(now)
	s.Totals.NetReceiveBytes, s.Totals.NetTransmitBytes, s.Totals.NetOK = tot[0], tot[1], true
	if !why.OK {
		s.NetRxBytesPerSec, s.NetTxBytesPerSec = why, why
		return
	}
	s.NetRxBytesPerSec, s.NetTxBytesPerSec = metric.Measured(r[0]), metric.Measured(r[1])
}
