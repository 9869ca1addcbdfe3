package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// machine describes where the table was measured: figures from shared
// 2-core machines mean little without it.
type machine struct {
	cpus      int
	model     string // or why it is unknown
	memory    string
	goVersion string
	date      time.Time
}

func describeMachine(ctx context.Context, e *env) machine {
	m := machine{cpus: runtime.NumCPU(), date: time.Now()}
	m.model = procField("/proc/cpuinfo", "model name")
	if kb, err := strconv.ParseFloat(strings.TrimSuffix(procField("/proc/meminfo", "MemTotal"), " kB"), 64); err == nil {
		m.memory = fmt.Sprintf("%.1f GiB", kb/(1<<20))
	} else {
		m.memory = "memory unknown"
	}
	// The toolchain that builds the benchmarks, which need not be the one
	// that built this program.
	if out, err := e.output(ctx, "go", "env", "GOVERSION"); err == nil {
		m.goVersion = strings.TrimSpace(string(out))
	} else {
		m.goVersion = "Go version unknown: " + strings.SplitN(err.Error(), "\n", 2)[0]
	}
	return m
}

// procField is the value of the first "key : value" line of a /proc file,
// or why there is none.
func procField(file, key string) string {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Sprintf("%s unknown: %v", key, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return fmt.Sprintf("%s unknown: not in %s", key, file)
}

// loadAverage is the one-minute load average, which tells whether other
// work shared the machine during the run.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	if f := strings.Fields(string(data)); len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

func (m machine) String() string {
	return fmt.Sprintf("%d CPUs (%s), %s, %s/%s, %s, %s",
		m.cpus, m.model, m.memory, runtime.GOOS, runtime.GOARCH, m.goVersion, m.date.Format("2006-01-02 15:04 MST"))
}
