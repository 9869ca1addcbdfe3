package tunnel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
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
	// Observers are fed the calls' details.
	Observers Observers
	// Session names the client's session in the calls recorded, when the
	// client reaches the tunnel through a bridge that has sessions (see
	// Bridge); "" for a client on this process's stdio.
	Session string
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

	out    *lineWriter
	up     *upstream
	corr   *correlator[stdioCall]
	replay replayLines

	mu       sync.Mutex
	proc     *os.Process // the running child, nil between children
	gen      uint64      // the number of children started
	started  time.Time   // when the latest child started
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
	return newStdio(mt, cmd, opts), nil
}

// newStdio is a tunnel whose figures go to mt, which other tunnels may
// share (a Bridge's, one per session).
func newStdio(mt *meters, cmd Command, opts StdioOptions) *Stdio {
	opts = opts.withDefaults()
	p := &Stdio{
		cmd:    cmd,
		opts:   opts,
		meters: mt,
		log:    opts.Logger,
		out:    newLineWriter(opts.Stdout),
		up:     newUpstream(),
		corr:   newCorrelator[stdioCall](mt, opts.Observers),
		wake:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	p.corr.cancellation = true
	p.corr.initialized = p.initialized
	p.corr.listed = p.listed
	p.corr.maxRewrite = opts.MaxLineSize // a line is held up to this; the server's limit is likely the same
	p.info.update(func(i *Info) { i.Transport, i.Command = "stdio", cmd.Path })
	return p
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
		// The one client's session ends with the tunnel, once every
		// request it sent has been answered or given up on.
		if end := p.opts.Observers.OnSessionEnd; end != nil {
			end(p.meters.transport, p.opts.Session)
		}
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
