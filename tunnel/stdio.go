package tunnel

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// Command is the MCP server program a Stdio tunnel runs.
type Command struct {
	// Path is the program; without a slash it is looked up in PATH.
	Path string
	Args []string
	// Env is the child's environment; nil means this process's.
	Env []string
	// Dir is the child's working directory; "" means this process's.
	Dir string
}

// Defaults used when a StdioOptions field is zero.
const (
	DefaultMaxRestarts = 5
	DefaultMinBackoff  = 100 * time.Millisecond
	DefaultMaxBackoff  = 30 * time.Second
	DefaultStopTimeout = 5 * time.Second
)

const (
	// healthyRun is how long a child must have run for its exit to start
	// a new series of restarts, with the count and the backoff reset: a
	// server that crashes once a day is not given up on after five days.
	healthyRun = time.Minute
	// drainTimeout bounds the wait, once the child has exited, for the
	// rest of its output: a grandchild holding the pipe open must not keep
	// the tunnel from answering the requests in flight.
	drainTimeout = time.Second
	// replayTimeout bounds the wait for a restarted child's answer to the
	// replayed initialize; a child that never answers is stopped, and the
	// next one tried.
	replayTimeout = 30 * time.Second
)

// StdioOptions configure a Stdio tunnel. The zero value relays this
// process's stdin and stdout, passes the child's stderr to this process's,
// and does not restart the child.
type StdioOptions struct {
	// Stdin carries the client's lines; default os.Stdin.
	Stdin io.Reader
	// Stdout receives the server's lines for the client; default
	// os.Stdout. When Stdin and Stdout are this process's own and pipes,
	// they are used through non-blocking duplicates (see pollable).
	Stdout io.Writer
	// Stderr receives the child's stderr; default os.Stderr.
	Stderr io.Writer
	// MaxLineSize is the longest line held whole; longer ones are relayed
	// in pieces as they arrive, and read as they pass. Default
	// DefaultMaxLineSize.
	MaxLineSize int
	// Restart starts the child again when it exits by itself, up to
	// MaxRestarts times in a row (default 5), after a backoff doubling
	// from MinBackoff (default 100 ms) to MaxBackoff (default 30 s).
	Restart     bool
	MaxRestarts int
	MinBackoff  time.Duration
	MaxBackoff  time.Duration
	// StopTimeout is how long a child is given to exit after SIGTERM when
	// Run's context ends, before it is killed. Default 5 s.
	StopTimeout time.Duration
	// Logger receives the tunnel's own messages. Default slog.Default().
	Logger *slog.Logger
}

func (o StdioOptions) withDefaults() StdioOptions {
	if o.Stdin == nil {
		o.Stdin = os.Stdin
	}
	if f, ok := o.Stdin.(*os.File); ok {
		o.Stdin = pollable(f)
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if f, ok := o.Stdout.(*os.File); ok {
		o.Stdout = pollable(f)
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.MaxLineSize <= 0 {
		o.MaxLineSize = DefaultMaxLineSize
	}
	if o.MaxRestarts <= 0 {
		o.MaxRestarts = DefaultMaxRestarts
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	o.MaxBackoff = max(o.MaxBackoff, o.MinBackoff)
	if o.StopTimeout <= 0 {
		o.StopTimeout = DefaultStopTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// A Stdio tunnel runs an MCP server as its child and relays newline-
// delimited JSON-RPC between it and the client, timing every request into
// the monitor. Create one with NewStdio and call Run, or Start and Wait,
// once; Signal and Info may be called from any goroutine.
type Stdio struct {
	cmd    Command
	opts   StdioOptions
	meters *meters
	log    *slog.Logger
	info   infoState

	out      *lineWriter
	up       *upstream
	c2s, s2c pendingTable
	replay   replayLines

	mu       sync.Mutex
	proc     *os.Process // the running child, nil between children
	gen      uint64      // the number of children started
	stopping bool        // a signal was forwarded: no restart
	stopSig  os.Signal   // the signal, for a child starting meanwhile
	wake     chan struct{}
	woken    bool

	ran    atomic.Bool
	done   chan struct{} // closed when the last child is done
	status int           // its exit status, set before done is closed
}

// replayLines are the client's initialize request, once it succeeded, and
// its notifications/initialized, exactly as the client sent them.
type replayLines struct {
	mu          sync.Mutex
	init, id    []byte
	initialized []byte
}

func (r *replayLines) get() (init, id, initialized []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.init, r.id, r.initialized
}

// NewStdio returns a tunnel that will run cmd, timing requests into m. It
// registers the gauge upstream_up and the alert rule upstream_down on m,
// which is why it must be called before the alert rules of a config file
// that may refer to them are added.
func NewStdio(m *monitor.Monitor, cmd Command, opts StdioOptions) (*Stdio, error) {
	if cmd.Path == "" {
		return nil, errors.New("tunnel: no command to run")
	}
	mt, err := newMeters(m, monitor.TransportStdio)
	if err != nil {
		return nil, fmt.Errorf("registering tunnel metrics: %w", err)
	}
	opts = opts.withDefaults()
	p := &Stdio{
		cmd:    cmd,
		opts:   opts,
		meters: mt,
		log:    opts.Logger,
		out:    newLineWriter(opts.Stdout),
		up:     newUpstream(),
		wake:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	p.info.update(func(i *Info) { i.Transport, i.Command = "stdio", cmd.Path })
	return p, nil
}

// Info describes the server as the tunnel knows it now.
func (p *Stdio) Info() Info { return p.info.get() }

// Signal forwards sig to the child's process group and lets Run end once
// the child exits, however it exits: a signalled child is not restarted.
// A child that is being restarted gets the signal as soon as it starts;
// during a backoff, Run ends at once.
func (p *Stdio) Signal(sig os.Signal) error {
	p.mu.Lock()
	p.stopping, p.stopSig = true, sig
	proc := p.proc
	p.wakeLocked()
	p.mu.Unlock()
	if proc == nil {
		return nil
	}
	if err := signalProcess(proc, sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("forwarding %v: %w", sig, err)
	}
	return nil
}

func (p *Stdio) wakeLocked() {
	if !p.woken {
		p.woken = true
		close(p.wake)
	}
}

// Run is Start followed by Wait.
func (p *Stdio) Run(ctx context.Context) (int, error) {
	if err := p.Start(ctx); err != nil {
		return 0, err
	}
	return p.Wait(), nil
}

// Start starts the child and the relay, and returns once the child runs, or
// with the error that kept it from starting. It may be called once. When
// ctx ends, the child is sent SIGTERM, and killed after StopTimeout.
//
// The relay of the client's lines runs until the client closes its side;
// once the server is done for good, a read of Stdin in progress is not
// waited for: that goroutine ends when the read returns.
func (p *Stdio) Start(ctx context.Context) error {
	if !p.ran.CompareAndSwap(false, true) {
		return errors.New("tunnel: Start called twice")
	}
	ctx, cancel := context.WithCancel(ctx)
	ch, err := p.start(ctx)
	if err != nil {
		cancel()
		close(p.done)
		return fmt.Errorf("starting %s: %w", p.cmd.Path, err)
	}
	go p.relayClient(ctx)
	go func() {
		defer close(p.done)
		defer cancel()
		p.status = p.loop(ctx, ch)
	}()
	return nil
}

// Wait waits until the child has exited for good: without Restart, when it
// first exits; with it, when it exits after a forwarded signal, after the
// client closed its side, or once MaxRestarts restarts in a row have
// failed. It returns the last child's exit status (its exit code, or 128
// plus the signal that ended it).
func (p *Stdio) Wait() int {
	<-p.done
	return p.status
}

// loop supervises children, the first one ch, and returns the last one's
// exit status.
func (p *Stdio) loop(ctx context.Context, ch *child) int {
	status := 0
	restarts := 0 // in a row
	for {
		if ch != nil {
			status = p.supervise(ctx, ch)
			if time.Since(ch.started) >= healthyRun {
				restarts = 0
			}
		}
		if p.isStopping() || ctx.Err() != nil || p.up.isClientGone() || !p.opts.Restart {
			return status
		}
		if restarts >= p.opts.MaxRestarts {
			p.log.LogAttrs(ctx, slog.LevelError, "giving up on the upstream MCP server",
				slog.Int("restarts_in_a_row", restarts), slog.Int("max_restarts", p.opts.MaxRestarts))
			return status
		}
		delay := backoff(p.opts.MinBackoff, p.opts.MaxBackoff, restarts)
		restarts++
		p.log.LogAttrs(ctx, slog.LevelWarn, "restarting the upstream MCP server",
			slog.Duration("after", delay), slog.Int("restart", restarts), slog.Int("max_restarts", p.opts.MaxRestarts))
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-p.wake:
			t.Stop()
			return status
		case <-ctx.Done():
			t.Stop()
			return status
		}
		p.meters.rest.Inc()
		p.info.update(func(i *Info) { i.Restarts++ })
		var err error
		if ch, err = p.start(ctx); err != nil {
			p.log.LogAttrs(ctx, slog.LevelError, "restarting the upstream MCP server failed", slog.Any("error", err))
		}
	}
}

// backoff is min doubled n times, at most max.
func backoff(minDelay, maxDelay time.Duration, n int) time.Duration {
	d := minDelay
	for range n {
		if d >= maxDelay/2 {
			return maxDelay
		}
		d *= 2
	}
	return min(d, maxDelay)
}

func (p *Stdio) isStopping() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopping || p.woken
}

// A child is one run of the server.
type child struct {
	cmd     *exec.Cmd
	stdin   *os.File // our end of its stdin
	stdout  *os.File // our end of its stdout
	gen     uint64
	started time.Time
	// replayTimer stops a restarted child that does not answer the
	// replayed initialize; initialized is the line to send once it has.
	replayTimer *time.Timer
	initialized []byte
	// replaying is set until the child has answered the replayed
	// initialize; only its relay reads and clears it.
	replaying bool
}

// start runs a new child. Its pipes are made here rather than by exec so
// that waiting for the child's exit does not wait for its output to end:
// a grandchild may hold the pipe open long after.
func (p *Stdio) start(ctx context.Context) (*child, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("creating stdin pipe: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("creating stdout pipe: %w", err)
	}
	cmd := exec.CommandContext(ctx, p.cmd.Path, p.cmd.Args...)
	cmd.Env, cmd.Dir = p.cmd.Env, p.cmd.Dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, p.opts.Stderr
	setProcessGroup(cmd)
	cmd.Cancel = func() error { return signalProcess(cmd.Process, terminateSignal) }
	cmd.WaitDelay = p.opts.StopTimeout
	err = cmd.Start()
	inR.Close() // the child has its own copies
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, err
	}

	p.mu.Lock()
	p.gen++
	ch := &child{cmd: cmd, stdin: inW, stdout: outR, gen: p.gen, started: time.Now()}
	p.proc = cmd.Process
	stopping, sig := p.stopping, p.stopSig
	p.mu.Unlock()
	if stopping && sig != nil {
		_ = signalProcess(cmd.Process, sig) // it arrived while this child started
	}

	pid := cmd.Process.Pid
	p.meters.m.WatchProcess(ProcessName, pid)
	p.meters.setUp(true)
	p.info.setUp(true)
	p.info.update(func(i *Info) { i.PID = pid })
	p.log.LogAttrs(ctx, slog.LevelInfo, "upstream MCP server started",
		slog.String("command", p.cmd.Path), slog.Int("pid", pid), slog.Uint64("run", ch.gen))
	p.open(ch)
	return ch, nil
}

// open lets the client's lines through to a new child, after replaying the
// client's initialization when the client had initialized an earlier one.
func (p *Stdio) open(ch *child) {
	init, id, initialized := p.replay.get()
	if init == nil {
		p.up.setUp(ch.stdin, ch.gen)
		return
	}
	p.c2s.add(id, call{method: "initialize", start: time.Now(), gen: ch.gen, replay: true})
	ch.initialized, ch.replaying = initialized, true
	proc := ch.cmd.Process
	ch.replayTimer = time.AfterFunc(replayTimeout, func() {
		p.log.Error("the restarted upstream MCP server did not answer the replayed initialize; stopping it",
			"timeout", replayTimeout)
		_ = signalProcess(proc, terminateSignal)
	})
	if _, err := ch.stdin.Write(init); err != nil {
		p.log.Warn("replaying initialize to the upstream MCP server failed", "error", err)
	}
}

// replayed is called by the relay of the child's lines when the child has
// answered the replayed initialize.
func (p *Stdio) replayed(ch *child, m *message) {
	ch.replayTimer.Stop()
	ch.replaying = false
	if m.hasError {
		p.log.Warn("the restarted upstream MCP server refused the replayed initialize; relaying anyway",
			"code", string(m.code))
	}
	if ch.initialized != nil {
		if _, err := ch.stdin.Write(ch.initialized); err != nil {
			p.log.Warn("replaying notifications/initialized failed", "error", err)
		}
	}
	p.log.Info("replayed the client's initialization to the restarted upstream MCP server", "run", ch.gen)
	p.up.setUp(ch.stdin, ch.gen)
}

// supervise relays the child's output until the child has exited, then
// answers what it left unanswered. It returns the exit status.
func (p *Stdio) supervise(ctx context.Context, ch *child) int {
	relayed := make(chan struct{})
	go func() {
		defer close(relayed)
		p.relayServer(ch)
	}()
	_ = ch.cmd.Wait() // the status is in ProcessState; the error says the same
	t := time.NewTimer(drainTimeout)
	select {
	case <-relayed:
	case <-t.C:
		ch.stdout.Close() // ends the relay's read
		<-relayed
	}
	t.Stop()
	ch.stdout.Close()

	status, desc := 1, "unknown status"
	if ps := ch.cmd.ProcessState; ps != nil {
		status, desc = exitStatus(ps), ps.String()
	}
	p.down(ctx, ch, status, desc)
	return status
}

// down handles a child's exit: the client's lines wait for the next child,
// and every request the client is waiting for gets an error response.
func (p *Stdio) down(ctx context.Context, ch *child, status int, desc string) {
	if ch.replayTimer != nil {
		ch.replayTimer.Stop()
	}
	p.mu.Lock()
	p.proc = nil
	p.mu.Unlock()
	// Closing first ends a write to the child in progress, which holds
	// the lock setDown needs.
	ch.stdin.Close()
	p.up.setDown()
	p.meters.setUp(false)
	p.meters.m.UnwatchProcess(ProcessName)
	p.info.setUp(false)
	p.info.update(func(i *Info) { i.PID, i.LastExit = 0, desc })

	now := time.Now()
	msg := "upstream MCP server exited: " + desc
	failed := 0
	for id, c := range p.c2s.drain(func(call) bool { return true }) {
		if c.replay || c.cancelled {
			continue // the tunnel's own, or recorded when cancelled and not to be answered
		}
		p.meters.record(&c, now.Sub(c.start), ErrorTypeUpstreamExit)
		if err := p.out.own(errorResponse([]byte(id), codeUpstreamExit, msg)); err != nil {
			p.log.Warn("answering a request after the upstream MCP server exited failed", "error", err)
		}
		failed++
	}
	// The child's own requests to the client can no longer be answered.
	p.s2c.markStale(ch.gen, func(c call) {
		p.meters.recordFromServer(&c, now.Sub(c.start), ErrorTypeUpstreamExit)
	})

	level := slog.LevelError
	if p.isStopping() || p.up.isClientGone() || ctx.Err() != nil {
		level = slog.LevelInfo
	}
	p.log.LogAttrs(ctx, level, "upstream MCP server exited",
		slog.String("status", desc), slog.Int("exit_code", status), slog.Int("requests_failed", failed))
}

// codeUpstreamExit is the JSON-RPC error code of the responses the tunnel
// writes for requests the server can no longer answer: -32000 is the first
// of the range JSON-RPC leaves to implementations.
const codeUpstreamExit = -32000

// relayClient relays the client's lines to the running child until the
// client closes its side or ctx ends.
func (p *Stdio) relayClient(ctx context.Context) {
	lr := newLineReader(p.opts.Stdin, p.opts.MaxLineSize)
	var (
		msgs []message
		ls   longScanner
		w    *bufio.Writer // the child's stdin, while a long line holds it
		gen  uint64        // that child's
		skip bool          // the rest of a long line goes nowhere
	)
	for {
		pc, err := lr.next()
		switch {
		case pc.long: // its last piece may be empty, at end of input
			if pc.first {
				p.meters.oversized.Inc()
				skip = false
				var lerr error
				if w, gen, lerr = p.up.lock(ctx); lerr != nil {
					return
				}
			}
			// A piece is read before it is written, so that a request
			// it ends is pending before the child can answer it.
			now := time.Now()
			p.readLong(&ls, pc, func(m *message) {
				if skip && m.kind() == kindRequest {
					p.unsent(m, now)
					return
				}
				p.clientMessage(m, nil, now, gen)
			})
			if !skip {
				_, _ = w.Write(pc.data)
				if werr := w.Flush(); werr != nil {
					// The child is gone: let its exit be handled now,
					// not when the client ends the line.
					skip = true
					p.up.unlock()
				}
			}
			if pc.last && !skip {
				p.up.unlock()
			}
		case len(pc.data) == 0:
		default:
			var lerr error
			if msgs, lerr = p.fromClient(ctx, pc.data, msgs, lr.more()); lerr != nil {
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				p.log.Info("the client closed its input; closing the upstream MCP server's")
			} else {
				p.log.Warn("reading the client's input failed; closing the upstream MCP server's", "error", err)
			}
			p.up.closeInput()
			p.mu.Lock()
			if p.proc == nil {
				p.wakeLocked() // no child to wait for: Run ends
			}
			p.mu.Unlock()
			return
		}
	}
}

// fromClient interprets and relays one line of the client's; more says
// another is waiting. It returns an error only when ctx ended while the
// line waited for a child.
func (p *Stdio) fromClient(ctx context.Context, line []byte, msgs []message, more bool) ([]message, error) {
	now := time.Now()
	msgs, err := decode(line, msgs)
	if err != nil && !isBlank(line) {
		p.meters.malformed.Inc()
	}
	w, gen, err := p.up.lock(ctx)
	if err != nil {
		return msgs, err
	}
	defer p.up.unlock()
	whole := line // the line is one message, which a replay may need
	if len(msgs) != 1 {
		whole = nil
	}
	drop := false
	for i := range msgs {
		drop = p.clientMessage(&msgs[i], whole, now, gen) || drop
	}
	if !drop {
		_, _ = w.Write(line)
	}
	if !more {
		_ = w.Flush() // a failed write means the child exited: down answers the requests
	}
	return msgs, nil
}

// methodCancelled is the notification by which either side cancels a
// request it sent.
const methodCancelled = "notifications/cancelled"

// clientMessage does the bookkeeping for one message of the client's, about
// to be written to child gen. whole is the line when the message is all of
// it, nil otherwise: an initialize request and notifications/initialized
// are kept from it for a replay, and only a whole line can be dropped. It
// reports whether the line is to be dropped: it answers a request that its
// child can no longer take.
func (p *Stdio) clientMessage(m *message, whole []byte, now time.Time, gen uint64) (drop bool) {
	switch m.kind() {
	case kindRequest:
		c := call{method: m.Method, start: now, gen: gen}
		if m.Method == monitor.MethodToolsCall {
			c.tool = m.toolName()
		}
		if m.Method == "initialize" && whole != nil {
			c.line = bytes.Clone(whole)
		}
		if m.idCut || !p.c2s.add(m.ID, c) {
			p.meters.untracked.Inc()
		}
	case kindNotification:
		p.meters.clientNotes.Inc()
		switch m.Method {
		case "notifications/initialized":
			if whole != nil {
				p.replay.mu.Lock()
				p.replay.initialized = bytes.Clone(whole)
				p.replay.mu.Unlock()
			}
		case methodCancelled:
			// The request is over for the client, which will not
			// read an answer to it: it is recorded now, and neither
			// the server's late answer nor the server's exit will
			// answer it again.
			if c, ok := p.c2s.cancel(m.cancelID); ok {
				p.meters.record(&c, now.Sub(c.start), monitor.ErrorTypeCancelled)
			}
		}
	case kindResponse:
		c, ok := p.s2c.take(m.ID)
		switch {
		case !ok:
			p.meters.unmatched.Inc()
		case c.stale || c.cancelled:
			// An answer to a child that has exited, which the new
			// child did not ask and may use the same id for another
			// request; or to a request the server cancelled.
			if whole != nil {
				p.meters.dropped.Inc()
				return true
			}
		default:
			p.meters.recordFromServer(&c, now.Sub(c.start), m.errorType())
		}
	}
	return false
}

// relayServer relays the child's lines to the client until the child's
// output ends.
func (p *Stdio) relayServer(ch *child) {
	lr := newLineReader(ch.stdout, p.opts.MaxLineSize)
	var (
		msgs    []message
		ls      longScanner
		holding bool // the client's output, for a long line
		drop    bool // the long line goes nowhere
	)
	for {
		pc, err := lr.next()
		switch {
		case pc.long:
			if pc.first {
				p.meters.oversized.Inc()
				// Until the child has answered the replayed initialize,
				// a long line may be that answer, which the client must
				// not see and which cannot be held until it is known.
				if drop = ch.replaying; drop {
					p.meters.dropped.Inc()
				} else {
					p.out.lock()
					holding = true
				}
			}
			now := time.Now()
			p.readLong(&ls, pc, func(m *message) { p.serverMessage(ch, m, now, false) })
			if !drop {
				_ = p.out.writeLocked(pc.data)
			}
			if pc.last && holding {
				p.out.unlock()
				holding = false
			}
		case len(pc.data) == 0:
		default:
			msgs = p.fromServer(ch, pc.data, msgs, lr.more())
		}
		if err != nil {
			if holding {
				p.out.unlock()
			}
			return
		}
	}
}

// readLong reads a piece of a line too long to hold, handing the messages
// it ends to emit; at the line's end it counts a line that is no JSON-RPC
// message.
func (p *Stdio) readLong(ls *longScanner, pc piece, emit func(*message)) {
	if pc.first {
		ls.reset()
	}
	ls.feed(pc.data, emit)
	if pc.last {
		if err := ls.finish(emit); err != nil && !errors.Is(err, errBlank) {
			p.meters.malformed.Inc()
		}
	}
}

// unsent answers a request of the client's whose line the child exited
// while it was being written: no child has it whole, and none will.
func (p *Stdio) unsent(m *message, now time.Time) {
	c := call{method: m.Method, start: now}
	if m.Method == monitor.MethodToolsCall {
		c.tool = m.toolName()
	}
	p.meters.record(&c, 0, ErrorTypeUpstreamExit)
	if m.idCut {
		return // no id to answer with
	}
	if err := p.out.own(errorResponse(m.ID, codeUpstreamExit, "upstream MCP server exited")); err != nil {
		p.log.Warn("answering a request after the upstream MCP server exited failed", "error", err)
	}
}

// fromServer interprets and relays one line of the child's; more says
// another is waiting.
func (p *Stdio) fromServer(ch *child, line []byte, msgs []message, more bool) []message {
	now := time.Now()
	msgs, err := decode(line, msgs)
	if err != nil && !isBlank(line) {
		p.meters.malformed.Inc()
	}
	drop := false
	for i := range msgs {
		drop = p.serverMessage(ch, &msgs[i], now, len(msgs) == 1) || drop
	}
	if drop {
		line = nil
	}
	_ = p.out.line(line, more) // a client that stopped reading has gone; its end of input ends the run
	return msgs
}

// serverMessage does the bookkeeping for one message of child ch's, about
// to be written to the client; alone says it is all of its line, which
// only then can be dropped. It reports whether the line is to be dropped:
// it answers the tunnel's replayed initialize, or a request the client
// cancelled.
func (p *Stdio) serverMessage(ch *child, m *message, now time.Time, alone bool) (drop bool) {
	switch m.kind() {
	case kindRequest:
		if m.idCut || !p.s2c.add(m.ID, call{method: m.Method, start: now, gen: ch.gen}) {
			p.meters.untracked.Inc()
		}
	case kindNotification:
		p.meters.serverNotes.Inc()
		if m.Method == methodCancelled {
			if c, ok := p.s2c.cancel(m.cancelID); ok {
				p.meters.recordFromServer(&c, now.Sub(c.start), monitor.ErrorTypeCancelled)
			}
		}
	case kindResponse:
		c, ok := p.c2s.take(m.ID)
		switch {
		case !ok:
			p.meters.unmatched.Inc()
		case c.cancelled:
			// The server answered although the client had cancelled:
			// the answer raced the cancellation, or the server ignores
			// it. The client has given up on the id and would see an
			// answer to an unknown request.
			if alone {
				p.meters.dropped.Inc()
				return true
			}
		case c.replay:
			if c.method == "initialize" {
				p.initialized(m, &c)
			}
			p.replayed(ch, m)
			return alone
		default:
			if c.method == "initialize" {
				p.initialized(m, &c)
			}
			p.meters.record(&c, now.Sub(c.start), m.errorType())
		}
	}
	return false
}

// initialized notes the server's initialize result and keeps the client's
// request for a replay once it has succeeded.
func (p *Stdio) initialized(m *message, c *call) {
	if !m.hasResult {
		return
	}
	if c.line != nil {
		p.replay.mu.Lock()
		p.replay.init, p.replay.id = c.line, bytes.Clone(m.ID)
		p.replay.mu.Unlock()
	}
	impl, version := m.serverInfoOf(), m.protocolVersionOf()
	p.info.update(func(i *Info) { i.Server, i.ProtocolVersion = &impl, version })
	p.log.Info("upstream MCP server initialized", "server_name", impl.Name, "server_version", impl.Version,
		"protocol_version", version)
}
