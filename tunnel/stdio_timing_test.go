package tunnel_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel/tunneltest"
)

// lineConn is a client's end of a stdio MCP connection.
type lineConn struct {
	w io.Writer
	r *bufio.Reader
}

func (c *lineConn) send(b testing.TB, line []byte) {
	if _, err := c.w.Write(line); err != nil {
		b.Fatal(err)
	}
}

func (c *lineConn) recv(b testing.TB) {
	if _, err := c.r.ReadSlice('\n'); err != nil {
		b.Fatal(err)
	}
}

func (c *lineConn) initialize(b testing.TB) {
	c.send(b, []byte(initLine+"\n"))
	c.recv(b)
	c.send(b, []byte(initializedLine+"\n"))
}

// connectDirect runs the fake server with the benchmark as its client.
func connectDirect(b *testing.B) *lineConn {
	path, env := tunneltest.Command()
	cmd := exec.Command(path)
	cmd.Env = env
	return startLines(b, cmd)
}

// startLines starts cmd as a stdio MCP server, the benchmark its client
// over OS pipes, and initializes the session.
func startLines(b *testing.B, cmd *exec.Cmd) *lineConn {
	in, out := startPiped(b, cmd)
	c := &lineConn{w: in, r: bufio.NewReaderSize(out, 64<<10)}
	c.initialize(b)
	return c
}

// connectProxied runs the fake server behind a Stdio tunnel, in a process
// of its own or in this one, the benchmark its client over OS pipes, as an
// MCP client is.
func connectProxied(b *testing.B, own bool) *lineConn {
	if own {
		return connectRole(b, "stdio-proxy")
	}
	return connectProxiedWith(b, tunnel.Observers{})
}

// connectProxiedWith is connectProxied in this process, the tunnel
// feeding obs.
func connectProxiedWith(b *testing.B, obs tunnel.Observers) *lineConn {
	path, env := tunneltest.Command()
	inR, inW, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	p, err := tunnel.NewStdio(newMonitor(), tunnel.Command{Path: path, Env: env}, tunnel.StdioOptions{
		Stdin: inR, Stdout: outW, Logger: slog.New(slog.DiscardHandler), Observers: obs,
	})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Run(context.Background())
	}()
	b.Cleanup(func() {
		inW.Close()
		<-done
		inR.Close()
		outW.Close()
		outR.Close()
	})
	c := &lineConn{w: inW, r: bufio.NewReaderSize(outR, 64<<10)}
	c.initialize(b)
	return c
}

// connectRole runs this binary as role in front of the fake server, the
// benchmark its client over OS pipes.
func connectRole(b *testing.B, role string) *lineConn {
	return startLines(b, roleCommand(role))
}

var echoCall = []byte(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"a short answer"}}}` + "\n")

// BenchmarkStdioRoundTrip times one tools/call at a time, alternately
// straight to one fake server and through the tunnel to another, so that
// both see the same machine load, and reports the median and 99th
// percentile of each and the median's overhead. See setups for the two
// set-ups.
func BenchmarkStdioRoundTrip(b *testing.B) {
	roundTrips := func(b *testing.B, direct, proxied *lineConn) {
		compareRoundTrips(b,
			func() { direct.send(b, echoCall); direct.recv(b) },
			func() { proxied.send(b, echoCall); proxied.recv(b) })
	}
	setups(b, func(b *testing.B, own bool) {
		roundTrips(b, connectDirect(b), connectProxied(b, own))
	})
	// The floor under the own-process figures: a process that copies the
	// bytes both ways and reads none of them.
	b.Run("relay-floor", func(b *testing.B) {
		roundTrips(b, connectDirect(b), connectRole(b, "stdio-relay"))
	})
}

// BenchmarkStdioThroughput keeps 32 tools/calls in flight, alternately
// straight to one fake server and through the tunnel to another, and
// reports the calls completed per second of each and their ratio.
func BenchmarkStdioThroughput(b *testing.B) {
	const window = 32
	calls := make([][]byte, window)
	for i := range calls {
		calls[i] = []byte(`{"jsonrpc":"2.0","id":` + strconv.Itoa(i) + `,"method":"tools/call","params":{"name":"echo","arguments":{"text":"a short answer"}}}` + "\n")
	}
	pipelined := func(c *lineConn) func(n int) {
		return func(n int) {
			sent := 0
			for ; sent < min(window, n); sent++ {
				c.send(b, calls[sent%window])
			}
			for range n {
				c.recv(b)
				if sent < n {
					c.send(b, calls[sent%window])
					sent++
				}
			}
		}
	}
	setups(b, func(b *testing.B, own bool) {
		compareThroughput(b, 1000, pipelined(connectDirect(b)), pipelined(connectProxied(b, own)))
	})
	// The floor under the own-process figures: a process that copies the
	// bytes both ways and reads none of them.
	b.Run("relay-floor", func(b *testing.B) {
		compareThroughput(b, 1000, pipelined(connectDirect(b)), pipelined(connectRole(b, "stdio-relay")))
	})
}

// compareRoundTrips runs b.N round trips of each kind, interleaved
// (testenv.Paired).
func compareRoundTrips(b *testing.B, direct, proxied func()) {
	dt, pt := testenv.Paired(b, direct, proxied)
	d50, d99 := percentiles(dt)
	p50, p99 := percentiles(pt)
	b.ReportMetric(d50, "direct-p50-µs")
	b.ReportMetric(d99, "direct-p99-µs")
	b.ReportMetric(p50, "proxy-p50-µs")
	b.ReportMetric(p99, "proxy-p99-µs")
	b.ReportMetric(p50-d50, "overhead-p50-µs")
	// The mean too: where calls fall in two groups (a goroutine handed a
	// core or not), the median moves by more than the work added.
	b.ReportMetric(mean(pt)-mean(dt), "overhead-mean-µs")
}

func mean(d []time.Duration) float64 {
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	return float64(sum.Nanoseconds()) / float64(len(d)) / 1000
}

// compareThroughput runs b.N calls of each kind, in alternating chunks:
// short enough that a change in the machine's load hits both alike.
func compareThroughput(b *testing.B, chunk int, direct, proxied func(n int)) {
	var dt, pt time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; done += chunk {
		n := min(chunk, b.N-done)
		start := time.Now()
		direct(n)
		mid := time.Now()
		proxied(n)
		dt += mid.Sub(start)
		pt += time.Since(mid)
	}
	b.StopTimer()
	d, p := float64(b.N)/dt.Seconds(), float64(b.N)/pt.Seconds()
	b.ReportMetric(d, "direct-calls/s")
	b.ReportMetric(p, "proxy-calls/s")
	b.ReportMetric(100*p/d, "proxy/direct-%")
}

// percentiles returns the median and 99th percentile of times in
// microseconds.
func percentiles(times []time.Duration) (p50, p99 float64) {
	if len(times) == 0 {
		return 0, 0
	}
	slices.Sort(times)
	at := func(q float64) float64 {
		return float64(times[min(len(times)-1, int(q*float64(len(times))))]) / float64(time.Microsecond)
	}
	return at(0.50), at(0.99)
}
