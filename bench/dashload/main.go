// Command dashload serves a dashboard over a monitor that samples every
// second and holds realistic data (tools with calls, a full trend window),
// for load tests of the HTTP API from another process, such as
//
//	go run ./bench/dashload -addr 127.0.0.1:18080 &
//	wrk -t2 -c32 -d20s --latency http://127.0.0.1:18080/api/metrics
//
// While it runs it measures RecordToolUsage in a loop and prints ns/op
// every few seconds, to show whether API load changes the hot path's cost.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/dashboard"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18080", "where to listen")
	tools := flag.Int("tools", 10, "distinct tools")
	every := flag.Duration("report-every", 5*time.Second, "how often to print the hot path's ns/op")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	m := monitor.New(monitor.Options{})
	names := make([]string, *tools)
	for i := range names {
		names[i] = "tool_" + strconv.Itoa(i)
	}
	// A full trend window: 15 minutes of samples at 1 s, recorded fast.
	for i := range 900 {
		for _, n := range names {
			m.RecordToolUsage(n, time.Duration(i%97)*time.Millisecond, i%13 != 0)
		}
		m.Sample(ctx)
	}
	if err := m.Start(ctx, time.Second); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv, err := dashboard.Start(ctx, m, dashboard.Options{Addr: *addr})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("serving on http://" + srv.Addr())

	t := time.NewTicker(*every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			m.Stop()
			_ = srv.Wait()
			return
		case <-t.C:
			const n = 2_000_000
			start := time.Now()
			for i := range n {
				m.RecordToolUsage(names[i%len(names)], time.Duration(i&1023)*time.Microsecond, i&15 != 0)
			}
			fmt.Printf("RecordToolUsage: %.1f ns/op\n", float64(time.Since(start).Nanoseconds())/n)
		}
	}
}
