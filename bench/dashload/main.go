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
	// A full ring of recent calls, for /api/calls: every method, clients,
	// sessions, sizes and failures, as a busy server keeps them.
	clients := []monitor.ClientInfo{{Name: "claude-code", Version: "2.1.0"}, {Name: "cursor", Version: "1.7"}, {Name: "codex", Version: "0.9"}}
	for i := range monitor.DefaultCallRing {
		c := monitor.Call{Start: time.Now(), Duration: time.Duration(i%997) * 10 * time.Microsecond, Method: monitor.MethodToolsCall,
			Tool: names[i%len(names)], Session: "session-" + strconv.Itoa(i%40), Client: clients[i%len(clients)],
			Transport: monitor.TransportHTTP, RequestBytes: int64(100 + i%300), ResponseBytes: int64(1000 + i%5000), ResponseTokens: int64(200 + i%900)}
		if i%11 == 0 {
			c.ErrorType, c.Error = monitor.ErrorTypeTool, "no entity named entity_"+strconv.Itoa(i)
		}
		if i%7 == 0 {
			c.Method, c.Tool = "resources/read", ""
		}
		m.RecordCall(c)
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
