package host

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// v1NoLimit: cgroup v1 reports "no limit" as a huge page-aligned number
// (9223372036854771712 on 64-bit kernels), not as a word. Anything from 2^62
// up is no real limit.
const v1NoLimit = uint64(1) << 62

// cgroupState is where this process's cgroup files are, found once at start:
// a process does not move between cgroups in practice, and looking again
// every sample would cost file reads for nothing.
type cgroupState struct {
	version int    // 1 or 2; 0 when there is no usable cgroup
	reason  string // why there is none, when version is 0

	memDir     string // v2: the cgroup; v1: the memory controller's
	cpuDir     string // v2: the cgroup; v1: the cpu controller's
	cpuacctDir string // v1 only
	// Why a v1 controller's directory is unknown, when it is empty.
	memReason, cpuReason string

	// The previous CPU usage reading, for the quota percentage.
	cpuPrevNs uint64
	cpuPrevAt time.Time
	cpuHave   bool
	cpuTotal  monotonic // CPU seconds, for Totals
}

func (c *cgroupState) source() string {
	if c.version == 2 {
		return "cgroup v2"
	}
	return "cgroup v1"
}

// detectCgroup finds this process's cgroup from <procRoot>/self/cgroup.
//
// It is cgroup v2 when the file names a unified path ("0::/path") and the
// unified hierarchy is mounted at cgroupRoot (it has cgroup.controllers).
// Hybrid hosts also list "0::" but mount v1 controllers at cgroupRoot, and
// are read as v1 ("4:memory:/path" under cgroupRoot/memory).
func detectCgroup(procRoot, cgroupRoot string) cgroupState {
	if runtime.GOOS != "linux" {
		return cgroupState{reason: "cgroups are Linux-only"}
	}
	self := filepath.Join(procRoot, "self", "cgroup")
	b, err := os.ReadFile(self)
	if err != nil {
		return cgroupState{reason: "cgroup unknown: " + shortErr(err)}
	}
	var unified string
	var haveUnified bool
	v1 := map[string]v1Entry{}
	for _, line := range strings.Split(string(b), "\n") {
		id, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		ctrls, path, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		if id == "0" && ctrls == "" {
			unified, haveUnified = path, true
			continue
		}
		for _, ctrl := range strings.Split(ctrls, ",") {
			v1[ctrl] = v1Entry{path: path, list: ctrls}
		}
	}

	if haveUnified && exists(filepath.Join(cgroupRoot, "cgroup.controllers")) {
		dir := cgroupDir(cgroupRoot, unified)
		return cgroupState{version: 2, memDir: dir, cpuDir: dir}
	}
	if len(v1) == 0 {
		return cgroupState{reason: "no cgroup listed in " + self}
	}
	s := cgroupState{version: 1}
	s.memDir, s.memReason = v1Dir(cgroupRoot, v1, "memory")
	s.cpuDir, s.cpuReason = v1Dir(cgroupRoot, v1, "cpu")
	var acctReason string
	s.cpuacctDir, acctReason = v1Dir(cgroupRoot, v1, "cpuacct")
	if s.cpuReason == "" {
		s.cpuReason = acctReason
	}
	return s
}

// v1Entry is one controller's line in /proc/self/cgroup.
type v1Entry struct {
	path string // the cgroup, e.g. "/docker/abc"
	list string // all controllers on the line, e.g. "cpu,cpuacct"
}

// v1Dir is a v1 controller's directory for this process. A controller is
// mounted at cgroupRoot/<name>, or co-mounted under its line's list (e.g.
// "cpu,cpuacct", often with the single names as symlinks to it).
func v1Dir(cgroupRoot string, v1 map[string]v1Entry, ctrl string) (dir, reason string) {
	e, ok := v1[ctrl]
	if !ok {
		return "", "no cgroup v1 " + ctrl + " controller for this process"
	}
	for _, m := range [...]string{ctrl, e.list} {
		if root := filepath.Join(cgroupRoot, m); exists(root) {
			return cgroupDir(root, e.path), ""
		}
	}
	return "", "cgroup v1 " + ctrl + " controller not mounted at " + cgroupRoot
}

// cgroupDir is the directory of the cgroup at path under a hierarchy mounted
// at mount. In a container the mount is usually the container's own cgroup
// (a cgroup namespace, or a bind mount of the subtree), while
// /proc/self/cgroup may still name the host-side path, which then does not
// exist under the mount: the mount root is the cgroup in that case.
func cgroupDir(mount, path string) string {
	dir := filepath.Join(mount, path)
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		return dir
	}
	return mount
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// cgroupMemory fills the container memory readings and picks MemoryPercent:
// the container's when a limit applies, else the host's. hostTotal is host
// RAM in bytes, 0 when unknown.
func (c *Collector) cgroupMemory(s *Stats, hostTotal uint64) {
	useHost := func(why metric.Reading) {
		s.ContainerMemoryPercent = why
		s.ContainerMemoryLimitBytes = why
		s.MemoryPercent = s.HostMemoryPercent
		s.MemorySource = "host"
	}
	cg := &c.cgroup
	if cg.version == 0 {
		useHost(metric.Unavailable("%s", cg.reason))
		return
	}
	if cg.memDir == "" {
		useHost(metric.Unavailable("%s", cg.memReason))
		return
	}

	limit, noLimit, err := c.memoryLimit()
	if err != nil {
		useHost(errReading("cgroup memory limit", err))
		return
	}
	if noLimit {
		useHost(metric.Unavailable("no cgroup memory limit set"))
		return
	}
	if limit == 0 {
		useHost(metric.Unavailable("cgroup memory limit reads 0"))
		return
	}
	if hostTotal > 0 && limit >= hostTotal {
		useHost(metric.Unavailable("cgroup memory limit %s is not below host RAM %s, so no effective limit",
			fmtBytes(limit), fmtBytes(hostTotal)))
		return
	}

	// A limit applies: from here on the container's figure is the one that
	// matters, so a failed read leaves MemoryPercent unavailable rather than
	// quietly showing the (irrelevant) host figure.
	s.MemorySource = cg.source()
	s.ContainerMemoryLimitBytes = metric.Measured(float64(limit))
	s.ContainerMemoryPercent = c.cgroupWorkingSet(limit)
	s.MemoryPercent = s.ContainerMemoryPercent
}

// memoryLimit reads the cgroup's memory limit; noLimit reports that none is
// set.
func (c *Collector) memoryLimit() (limit uint64, noLimit bool, err error) {
	cg := &c.cgroup
	if cg.version == 1 {
		limit, err = c.files.readUint(filepath.Join(cg.memDir, "memory.limit_in_bytes"))
		return limit, err == nil && limit >= v1NoLimit, err
	}
	b, err := c.files.read(filepath.Join(cg.memDir, "memory.max"))
	if errors.Is(err, fs.ErrNotExist) {
		// The root cgroup has no memory.max: nothing limits it.
		return 0, true, nil
	}
	if err != nil {
		return 0, false, err
	}
	b = bytes.TrimSpace(b)
	if string(b) == "max" {
		return 0, true, nil
	}
	limit, ok := parseUintBytes(b)
	if !ok {
		return 0, false, fmt.Errorf("memory.max: not a number: %.40q", b)
	}
	return limit, false, nil
}

// cgroupWorkingSet is usage minus inactive file cache, as a percentage of
// limit. Inactive cache is reclaimed before the OOM killer acts, so counting
// it would make a healthy container look full.
func (c *Collector) cgroupWorkingSet(limit uint64) metric.Reading {
	cg := &c.cgroup
	usageFile, statFile, inactiveKey := "memory.current", "memory.stat", "inactive_file"
	if cg.version == 1 {
		usageFile, inactiveKey = "memory.usage_in_bytes", "total_inactive_file"
	}
	usage, err := c.files.readUint(filepath.Join(cg.memDir, usageFile))
	if err != nil {
		return errReading("cgroup memory usage", err)
	}
	inactive, err := c.files.readKey(filepath.Join(cg.memDir, statFile), inactiveKey)
	if err != nil && cg.version == 1 {
		// Without hierarchy accounting v1 has only the cgroup's own count.
		inactive, err = c.files.readKey(filepath.Join(cg.memDir, statFile), "inactive_file")
	}
	if err != nil {
		return errReading("cgroup memory.stat", err)
	}
	ws := uint64(0)
	if usage > inactive {
		ws = usage - inactive
	}
	return metric.Measured(float64(ws) / float64(limit) * 100)
}
