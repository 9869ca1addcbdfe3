// Command overhead measures what monitoring costs: it runs a monitor with
// host collection at the given interval for the given duration, recording
// tool calls at a steady rate from another goroutine, and prints the
// sampler's own CPU time (measured on its thread), the whole process's CPU
// time, and the heap at the start and the end.
//
//	go run ./bench/overhead -interval 1s -duration 60s
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

func main() {
	interval := flag.Duration("interval", time.Second, "sampling interval")
	duration := flag.Duration("duration", time.Minute, "how long to measure")
	tools := flag.Int("tools", 10, "distinct tools to record calls for")
	rate := flag.Int("calls", 100, "tool calls recorded per second (0: none, to see the monitor alone)")
	fill := flag.Int("fill", 0, "instead of timing, take this many samples back to back (2880 = a full default history) and print the memory held")
	flag.Parse()
	var err error
	if *fill > 0 {
		err = fillHistory(*fill, *tools)
	} else {
		err = run(*interval, *duration, *tools, *rate)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "overhead:", err)
		os.Exit(1)
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heapAlloc() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func run(interval, duration time.Duration, tools, rate int) error {
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	m := monitor.New(monitor.Options{})
	names := make([]string, tools)
	for i := range names {
		names[i] = fmt.Sprintf("tool_%02d", i)
	}
	go func() {
		if rate <= 0 {
			return
		}
		t := time.NewTicker(time.Second / time.Duration(rate))
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				m.RecordToolUsage(names[i%len(names)], time.Duration(i%50)*time.Millisecond, i%20 != 0)
			}
		}
	}()
	heap0 := heapAlloc()
	cpu0, wall0 := processCPU(), time.Now()
	if err := m.Start(ctx, interval); err != nil {
		return err
	}
	<-ctx.Done()
	m.Stop()
	cpu, wall := processCPU()-cpu0, time.Since(wall0)
	s := m.Latest()
	heap1 := heapAlloc()
	pct := func(d time.Duration) float64 { return 100 * d.Seconds() / wall.Seconds() }
	fmt.Printf("interval %v, %v measured, %d samples, %d tools, %d calls/s\n", interval, wall.Round(time.Millisecond), s.Seq, tools, rate)
	fmt.Printf("sampler CPU (its own thread): %v total, %.1f µs per sample, %.3f %% of one core\n",
		s.Overhead.TotalCPU, float64(s.Overhead.TotalCPU.Microseconds())/float64(s.Seq), pct(s.Overhead.TotalCPU))
	fmt.Printf("whole process CPU (sampler, clock, load generator, GC): %v, %.3f %% of one core\n", cpu, pct(cpu))
	fmt.Printf("heap %d → %d bytes; monitor structures %d bytes for %d samples\n", heap0, heap1, s.Overhead.MemoryBytes, s.Overhead.HistorySamples)
	return nil
}

// fillHistory takes n samples as fast as it can, with calls to every tool
// between samples, and prints what the retained history holds.
func fillHistory(n, tools int) error {
	heap0 := heapAlloc()
	m := monitor.New(monitor.Options{})
	ctx := context.Background()
	for i := range n {
		for t := range tools {
			m.RecordToolUsage(fmt.Sprintf("tool_%02d", t), time.Duration(i%50)*time.Millisecond, i%20 != 0)
		}
		m.Sample(ctx)
	}
	s := m.Latest()
	heap1 := heapAlloc()
	fmt.Printf("%d samples retained with %d tools: monitor structures %d bytes (%.2f MiB); heap grew by %.2f MiB\n",
		s.Overhead.HistorySamples, tools, s.Overhead.MemoryBytes, float64(s.Overhead.MemoryBytes)/(1<<20), float64(heap1-heap0)/(1<<20))
	runtime.KeepAlive(m)
	return nil
}
