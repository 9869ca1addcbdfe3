package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
)

// A timedRun is one run of bench/overhead with the monitor sampling.
type timedRun struct {
	what, interval, duration string
	calls                    int
}

var timedRuns = []timedRun{
	{"1 s interval, monitor alone", "1s", "60s", 0},
	{"1 s interval, 100 tool calls/s over 10 tools", "1s", "60s", 100},
	{"30 s interval, monitor alone", "30s", "5m", 0},
}

// overheadRow is what monitoring costs: a sample in isolation
// (benchmarks), the monitor running at 1 s and 30 s intervals
// (bench/overhead, CPU measured on the sampler's own thread and for the
// whole process), and the memory of a full default history.
func overheadRow(ctx context.Context, e *env) ([]line, error) {
	r, err := e.goBench(ctx, "Sample|SystemCollect", e.benchFlags("", 3, "-benchmem"), "monitor", "monitor/host")
	if err != nil {
		return nil, err
	}
	lines := []line{
		{what: "one sample, 20 tools, with host collection (`BenchmarkSample`)", figure: r.m("monitor", "BenchmarkSample/system=true", "ns/op").scaled(1e-3, "µs"), commands: []string{r.command}},
		{what: "one sample, 20 tools, no host collection", figure: r.m("monitor", "BenchmarkSample/system=false", "ns/op").scaled(1e-3, "µs"), commands: []string{r.command}},
		{what: "host collection alone (`BenchmarkSystemCollect`)", figure: r.m("monitor/host", "BenchmarkSystemCollect", "ns/op").scaled(1e-3, "µs"), commands: []string{r.command}},
	}
	if err := r.check(); err != nil {
		return nil, err
	}
	for _, t := range timedRuns {
		ls, err := e.timedOverhead(ctx, t)
		if err != nil {
			return nil, err
		}
		lines = append(lines, ls...)
	}
	for _, tools := range []int{3, 20} {
		ls, err := e.historyMemory(ctx, tools)
		if err != nil {
			return nil, err
		}
		lines = append(lines, ls...)
	}
	return lines, nil
}

// timedOverhead runs the monitor as t says and reads the sampler's CPU
// per sample and share of a core, and the whole process's share.
func (e *env) timedOverhead(ctx context.Context, t timedRun) ([]line, error) {
	if e.quick {
		t.duration = "1s"
	}
	args := []string{"run", "./bench/overhead", "-interval", t.interval, "-duration", t.duration, "-calls", strconv.Itoa(t.calls)}
	cmd := shellJoin("go", args...)
	values := make([][]float64, 3)
	for range e.runs(1) {
		out, err := e.output(ctx, "go", args...)
		if err != nil {
			return nil, err
		}
		s, err := match(reSampler, out)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cmd, err)
		}
		p, err := match(reProcess, out)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cmd, err)
		}
		for i, v := range append(s, p...) {
			values[i] = append(values[i], v)
		}
	}
	return linesOf(cmd, values,
		[]string{"sampler CPU per sample, " + t.what, "sampler, share of one core, " + t.what + " (target < 1 %)", "whole process, share of one core, " + t.what},
		[]string{"µs", "%", "%"})
}

// historyMemory fills the default history with tools tools and reads what
// the monitor's structures hold and what the heap grew by.
func (e *env) historyMemory(ctx context.Context, tools int) ([]line, error) {
	samples := 2880 // the default retention: 24 h at the default 30 s interval
	if e.quick {
		samples = 100
	}
	args := []string{"run", "./bench/overhead", "-fill", strconv.Itoa(samples), "-tools", strconv.Itoa(tools)}
	cmd := shellJoin("go", args...)
	values := make([][]float64, 2)
	for range e.runs(1) {
		out, err := e.output(ctx, "go", args...)
		if err != nil {
			return nil, err
		}
		v, err := match(reFill, out)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cmd, err)
		}
		for i := range v {
			values[i] = append(values[i], v[i])
		}
	}
	of := fmt.Sprintf(", %d samples retained, %d tools", samples, tools)
	return linesOf(cmd, values, []string{"monitor structures" + of, "heap growth" + of}, []string{"MiB", "MiB"})
}

// linesOf makes a line without anchor of each series of values.
func linesOf(cmd string, values [][]float64, whats, units []string) ([]line, error) {
	lines := make([]line, len(values))
	for i, vs := range values {
		m, err := measureOf(vs, units[i])
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", cmd, whats[i], err)
		}
		lines[i] = line{what: whats[i], figure: m, commands: []string{cmd}}
	}
	return lines, nil
}

// What bench/overhead prints.
var (
	reSampler = regexp.MustCompile(`sampler CPU \(its own thread\): \S+ total, (\S+) µs per sample, (\S+) % of one core`)
	reProcess = regexp.MustCompile(`whole process CPU [^:]*: \S+, (\S+) % of one core`)
	reFill    = regexp.MustCompile(`monitor structures \d+ bytes \((\S+) MiB\); heap grew by (\S+) MiB`)
)

// match returns the numbers re captures in out.
func match(re *regexp.Regexp, out []byte) ([]float64, error) {
	m := re.FindSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("no line matching %q in the output:\n%s", re, out)
	}
	vs := make([]float64, len(m)-1)
	for i := range vs {
		v, err := strconv.ParseFloat(string(m[i+1]), 64)
		if err != nil {
			return nil, fmt.Errorf("reading %q: %w", m[0], err)
		}
		vs[i] = v
	}
	return vs, nil
}
