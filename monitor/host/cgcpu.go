package host

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// cgroupCPU is the cgroup's CPU use since the previous reading as a share of
// its quota: Δusage / (Δwall × quota/period) × 100. It also sets the
// cgroup's CPU seconds and quota in tot.
func (c *Collector) cgroupCPU(now time.Time, tot *Totals) metric.Reading {
	cg := &c.cgroup
	switch {
	case cg.version == 0:
		return metric.Unavailable("%s", cg.reason)
	case cg.cpuDir == "" || (cg.version == 1 && cg.cpuacctDir == ""):
		return metric.Unavailable("%s", cg.cpuReason)
	}
	// The usage is a total worth exporting with or without a quota.
	usage, usageErr := c.cpuUsageNs()
	if usageErr == nil {
		tot.ContainerCPUSeconds = cg.cpuTotal.update(float64(usage) / 1e9)
		tot.ContainerCPUOK = true
	}
	cores, err := c.cpuQuota()
	if err != nil || cores == 0 {
		// The baseline is dropped so a quota set later starts afresh rather
		// than averaging over the time it was absent.
		cg.cpuHave = false
		if err != nil {
			return errReading("cgroup CPU quota", err)
		}
		return metric.Unavailable("no cgroup CPU quota set")
	}
	tot.ContainerCPUQuotaCores = cores
	if usageErr != nil {
		return errReading("cgroup CPU usage", usageErr)
	}
	prevNs, prevAt, had := cg.cpuPrevNs, cg.cpuPrevAt, cg.cpuHave
	cg.cpuPrevNs, cg.cpuPrevAt, cg.cpuHave = usage, now, true
	switch dt := now.Sub(prevAt); {
	case !had:
		return metric.NoData("needs two samples")
	case dt <= 0:
		return metric.NoData("no time elapsed since the last sample")
	case usage < prevNs:
		return metric.Unavailable("cgroup CPU usage went backwards (cgroup recreated?)")
	default:
		// Clamped because usage and wall time are not read at the same
		// instant, so a fully throttled cgroup can read a little over 100.
		return metric.Measured(clampPercent(float64(usage-prevNs) / (float64(dt) * cores) * 100))
	}
}

// cpuQuota returns the cgroup's CPU quota in cores (quota/period), 0 when no
// quota is set.
func (c *Collector) cpuQuota() (float64, error) {
	cg := &c.cgroup
	if cg.version == 2 {
		// "max 100000" or "50000 100000"; the root cgroup has no cpu.max.
		b, err := c.files.read(filepath.Join(cg.cpuDir, "cpu.max"))
		if errors.Is(err, fs.ErrNotExist) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		q, p, _ := bytes.Cut(bytes.TrimSpace(b), []byte{' '})
		if string(q) == "max" {
			return 0, nil
		}
		quota, ok1 := parseUintBytes(q)
		period, ok2 := parseUintBytes(p)
		if !ok1 || !ok2 || period == 0 {
			return 0, fmt.Errorf("cpu.max: malformed: %.40q", b)
		}
		return float64(quota) / float64(period), nil
	}

	b, err := c.files.read(filepath.Join(cg.cpuDir, "cpu.cfs_quota_us"))
	if err != nil {
		return 0, err
	}
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '-' { // -1: no quota
		return 0, nil
	}
	quota, ok := parseUintBytes(b)
	if !ok {
		return 0, fmt.Errorf("cpu.cfs_quota_us: malformed: %.40q", b)
	}
	period, err := c.files.readUint(filepath.Join(cg.cpuDir, "cpu.cfs_period_us"))
	if err != nil {
		return 0, err
	}
	if period == 0 {
		return 0, errors.New("cpu.cfs_period_us is 0")
	}
	return float64(quota) / float64(period), nil
}

// cpuUsageNs is the cgroup's cumulative CPU time in nanoseconds.
func (c *Collector) cpuUsageNs() (uint64, error) {
	cg := &c.cgroup
	if cg.version == 2 {
		us, err := c.files.readKey(filepath.Join(cg.cpuDir, "cpu.stat"), "usage_usec")
		return us * 1000, err
	}
	return c.files.readUint(filepath.Join(cg.cpuacctDir, "cpuacct.usage"))
}
