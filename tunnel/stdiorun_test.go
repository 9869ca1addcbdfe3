package tunnel_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel/tunneltest"
)

// waitLimit bounds every wait for the proxy or the fake server. It is
// generous for a loaded machine running the race detector; a healthy run
// takes milliseconds.
const waitLimit = 30 * time.Second

func newMonitor() *monitor.Monitor {
	return monitor.New(monitor.Options{DisableSystem: true})
}

type runResult struct {
	status int
	err    error
}

// stdioRun is a Stdio tunnel running in this process in front of the fake
// server, with the test as its client: the test writes the client's lines
// into the tunnel's stdin and reads the tunnel's stdout.
type stdioRun struct {
	t      *testing.T
	m      *monitor.Monitor
	p      *tunnel.Stdio
	dir    string // where the fake server records its traffic
	cancel context.CancelFunc

	in    *io.PipeWriter
	sent  bytes.Buffer   // every byte the client wrote
	got   testenv.Buffer // every byte the client read
	lines chan []byte
	// readDone is closed when the client has read the tunnel's output
	// to its end.
	readDone chan struct{}
	stderr   testenv.Buffer // the child's stderr
	logs     testenv.Buffer // the tunnel's log
	result   chan runResult
	res      *runResult
	seen     [][]byte // lines read while waiting for another
}

func startStdio(t *testing.T, opts tunnel.StdioOptions, cmd ...string) *stdioRun {
	t.Helper()
	r := &stdioRun{t: t, m: newMonitor(), dir: t.TempDir(), lines: make(chan []byte, 1024), result: make(chan runResult, 1), readDone: make(chan struct{})}
	var c tunnel.Command
	if len(cmd) > 0 {
		c = tunnel.Command{Path: cmd[0], Args: cmd[1:]}
	} else {
		c.Path, c.Env = tunneltest.Command(tunneltest.EnvRecord + "=" + r.dir)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	r.in = inW
	opts.Stdin, opts.Stdout, opts.Stderr = inR, outW, &r.stderr
	opts.Logger = slog.New(slog.NewTextHandler(&r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p, err := tunnel.NewStdio(r.m, c, opts)
	if err != nil {
		t.Fatal(err)
	}
	r.p = p
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		status, err := p.Run(ctx)
		r.result <- runResult{status, err}
		outW.Close()
	}()
	go func() {
		defer close(r.readDone)
		defer close(r.lines)
		br := bufio.NewReader(outR)
		for {
			line, err := br.ReadBytes('\n')
			if len(line) > 0 {
				r.got.Write(line)
				r.lines <- line
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		inW.Close()
		cancel()
		r.wait()
		outR.Close()
		if t.Failed() {
			t.Logf("tunnel log:\n%s\nchild stderr:\n%s", r.logs.String(), r.stderr.String())
		}
	})
	return r
}

// send writes one line as the client.
func (r *stdioRun) send(line string) {
	r.t.Helper()
	if !strings.HasSuffix(line, "\n") {
		line += "\n"
	}
	r.sent.WriteString(line)
	if _, err := io.WriteString(r.in, line); err != nil {
		r.t.Fatalf("writing to the tunnel: %v", err)
	}
}

// sendPart writes part of a line as the client, without ending it.
func (r *stdioRun) sendPart(part string) {
	r.t.Helper()
	r.sent.WriteString(part)
	if _, err := io.WriteString(r.in, part); err != nil {
		r.t.Fatalf("writing to the tunnel: %v", err)
	}
}

// next returns the next line from the tunnel, or nil at its end.
func (r *stdioRun) next() []byte {
	r.t.Helper()
	t := time.NewTimer(waitLimit)
	defer t.Stop()
	select {
	case line := <-r.lines:
		return line
	case <-t.C:
		r.t.Fatalf("no line from the tunnel within %v", waitLimit)
		return nil
	}
}

// wire is a message as the test client reads it.
type wire struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func parse(t *testing.T, line []byte) wire {
	t.Helper()
	var w wire
	if err := json.Unmarshal(line, &w); err != nil {
		t.Fatalf("line from the tunnel is not a JSON-RPC message: %v\n%q", err, line)
	}
	return w
}

// await returns the first line, kept or new, for which match is true,
// answering the server's roots/list requests on the way and keeping the
// other lines in r.seen.
func (r *stdioRun) await(what string, match func(line []byte) bool) []byte {
	r.t.Helper()
	for i, line := range r.seen {
		if match(line) {
			r.seen = append(r.seen[:i], r.seen[i+1:]...)
			return line
		}
	}
	for {
		line := r.next()
		if line == nil {
			r.t.Fatalf("the tunnel's output ended before %s", what)
		}
		if match(line) {
			return line
		}
		r.seen = append(r.seen, line)
		if line[0] == '{' {
			if w := parse(r.t, line); w.Method == "roots/list" && len(w.ID) > 0 {
				r.send(`{"jsonrpc":"2.0","id":` + string(w.ID) + `,"result":{"roots":[{"uri":"file:///srv","name":"srv"}]}}`)
			}
		}
	}
}

// response reads lines until the response with the given raw id.
func (r *stdioRun) response(id string) wire {
	r.t.Helper()
	line := r.await("the response to "+id, func(line []byte) bool {
		if line[0] != '{' {
			return false
		}
		w := parse(r.t, line)
		return w.Method == "" && string(w.ID) == id
	})
	return parse(r.t, line)
}

// call sends a request and returns its response.
func (r *stdioRun) call(id, line string) wire {
	r.t.Helper()
	r.send(line)
	return r.response(id)
}

// toolText calls a tool and returns the text of its result.
func (r *stdioRun) toolText(id, name, args string) string {
	r.t.Helper()
	w := r.call(id, `{"jsonrpc":"2.0","id":`+id+`,"method":"tools/call","params":{"name":"`+name+`","arguments":`+args+`}}`)
	if w.Error != nil {
		r.t.Fatalf("%s: error %d %s", name, w.Error.Code, w.Error.Message)
	}
	var res struct {
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	if err := json.Unmarshal(w.Result, &res); err != nil || len(res.Content) == 0 {
		r.t.Fatalf("%s: result %s: %v", name, w.Result, err)
	}
	return res.Content[0].Text
}

const (
	initLine        = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"roots":{}},"clientInfo":{"name":"test-client","version":"0.1"}}}`
	initializedLine = `{"jsonrpc":"2.0","method":"notifications/initialized"}`
)

// initialize performs the client's side of MCP initialization.
func (r *stdioRun) initialize() {
	r.t.Helper()
	if w := r.call("1", initLine); w.Error != nil {
		r.t.Fatalf("initialize: %+v", w.Error)
	}
	r.send(initializedLine)
}

// wait returns what Run returned.
func (r *stdioRun) wait() runResult {
	r.t.Helper()
	if r.res != nil {
		return *r.res
	}
	t := time.NewTimer(waitLimit)
	defer t.Stop()
	select {
	case res := <-r.result:
		r.res = &res
		return res
	case <-t.C:
		r.t.Fatalf("Run did not return within %v", waitLimit)
		return runResult{}
	}
}

// closeInput ends the client's side and returns what Run returned, once
// the client has read all the tunnel wrote.
func (r *stdioRun) closeInput() runResult {
	r.t.Helper()
	r.in.Close()
	res := r.wait()
	select {
	case <-r.readDone: // Run's last lines may still be on their way
	case <-time.After(waitLimit):
		r.t.Fatalf("the tunnel's output did not end within %v", waitLimit)
	}
	return res
}

// recorded returns what the fake server recorded in the named file.
func (r *stdioRun) recorded(name string) []byte {
	r.t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, name))
	if err != nil {
		r.t.Fatal(err)
	}
	return b
}
