// Package host reads the machine a server runs on: host CPU and memory,
// the container's cgroup limits and use (v1 and v2), disk and network I/O,
// and one process's CPU, memory, threads and open files. The monitor's
// sampler calls a Collector once per sample; rates are differences against
// the collector's own previous reading, so a Collector belongs to one
// caller.
//
// Files are read from /proc and /sys, or from the roots given in Options,
// which is how the tests read the fixture trees under testdata. A figure
// that cannot be read is a metric.Reading with the reason, never a 0.
package host
