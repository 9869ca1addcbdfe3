package tunnel

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"time"
)

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
	// later holds the answered calls of its lines still to be reported
	// (hop.later); only its relay uses it.
	later []report
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
	p.proc, p.started = cmd.Process, ch.started
	stopping, sig := p.stopping, p.stopSig
	p.mu.Unlock()
	if stopping && sig != nil {
		_ = signalProcess(cmd.Process, sig) // it arrived while this child started
	}

	pid := cmd.Process.Pid
	p.meters.childStarted(pid)
	p.info.setUp(true)
	p.info.update(func(i *Info) { i.PID, i.ColdStart = pid, nil }) // a new child starts cold
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
	p.corr.c2s.add(id, call[stdioCall]{method: "initialize", start: time.Now(), state: replaying, at: stdioCall{gen: ch.gen}})
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
	// Ended by its session's end, it is not a server down.
	p.meters.childExited(ch.cmd.Process.Pid, p.isStopping() || p.up.isClientGone() || ctx.Err() != nil)
	p.info.setUp(false)
	p.info.update(func(i *Info) { i.PID, i.LastExit = 0, desc })

	now := time.Now()
	msg := "upstream MCP server exited: " + desc
	failed := 0
	for id, c := range p.corr.c2s.drain(func(call[stdioCall]) bool { return true }) {
		if c.state != waiting {
			continue // the tunnel's own, or recorded when cancelled and not to be answered
		}
		p.corr.record(&c, now.Sub(c.start), ErrorTypeUpstreamExit)
		if err := p.out.own(errorResponse([]byte(id), codeUpstreamExit, msg)); err != nil {
			p.log.Warn("answering a request after the upstream MCP server exited failed", "error", err)
		}
		failed++
	}
	// The child's own requests to the client can no longer be answered.
	p.corr.s2c.orphan(func(c call[stdioCall]) bool { return c.at.gen == ch.gen }, func(c call[stdioCall]) {
		p.corr.recordFromServer(&c, now.Sub(c.start), ErrorTypeUpstreamExit)
	})

	level := slog.LevelError
	if p.isStopping() || p.up.isClientGone() || ctx.Err() != nil {
		level = slog.LevelInfo
	}
	p.log.LogAttrs(ctx, level, "upstream MCP server exited",
		slog.String("status", desc), slog.Int("exit_code", status), slog.Int("requests_failed", failed))
}
