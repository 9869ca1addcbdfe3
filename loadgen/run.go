package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// ConnectError is returned when a session cannot be opened or initialized:
// the target was never loaded.
type ConnectError struct{ Err error }

func (e *ConnectError) Error() string { return "connecting to the MCP server: " + e.Err.Error() }
func (e *ConnectError) Unwrap() error { return e.Err }

// ErrOptions wraps the errors of inconsistent Options.
var ErrOptions = errors.New("invalid options")

// Run loads opts.Target with opts.Workload and returns what it measured.
// When ctx ends early, Run stops the calls in flight and returns the
// summary of those completed, marked Interrupted, with a nil error. A
// worker whose session's connection closes stops, and the summary says so
// in ConnectionLost: a server that died is not measured further.
func Run(ctx context.Context, opts Options) (*Summary, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOptions, err)
	}
	sessions, err := connect(ctx, o)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, s := range sessions {
			_ = s.Close()
		}
	}()

	if p, ok := o.Workload.(Preparer); ok {
		if err := prepare(ctx, o, sessions[0], p.Prepare()); err != nil {
			return nil, err
		}
	}
	var lost firstError
	if o.Warmup > 0 {
		phase(ctx, ctx, o, sessions, o.Warmup, nil, &lost, o.Seed^0x5eed)
		if err := lost.get(); err != nil {
			return nil, fmt.Errorf("during the warm-up: %w", err)
		}
	}
	st := newStats()
	issue, stopIssuing := ctx, context.CancelFunc(func() {})
	if o.Duration > 0 {
		issue, stopIssuing = context.WithTimeout(ctx, o.Duration)
	}
	defer stopIssuing()

	start := time.Now()
	done := make(chan struct{})
	var progress sync.WaitGroup
	if o.Progress != nil {
		progress.Go(func() {
			t := time.NewTicker(o.ProgressEvery)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					o.Progress(st.snapshot(time.Since(start)))
				}
			}
		})
	}
	phase(ctx, issue, o, sessions, o.Count, st, &lost, o.Seed)
	elapsed := time.Since(start)
	close(done)
	progress.Wait()
	sum := st.summary(o, elapsed, ctx.Err() != nil)
	if err := lost.get(); err != nil {
		sum.ConnectionLost = err.Error()
	}
	return sum, nil
}

// firstError keeps the first error set. Safe for concurrent use.
type firstError struct {
	mu  sync.Mutex
	err error
}

func (f *firstError) set(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// prepare makes the preparing calls, one at a time.
func prepare(ctx context.Context, o Options, s *mcp.ClientSession, calls []Call) error {
	for i, c := range calls {
		callCtx, cancel := context.WithTimeout(ctx, o.Timeout)
		res, err := s.CallTool(callCtx, &mcp.CallToolParams{Name: c.Tool, Arguments: c.Args})
		cancel()
		if err == nil && res.IsError {
			err = fmt.Errorf("tool error: %s", resultText(res))
		}
		if err != nil {
			return fmt.Errorf("preparing the workload, call %d of %d (%s): %w", i+1, len(calls), c.Tool, err)
		}
	}
	return nil
}

func resultText(res *mcp.CallToolResult) string {
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			return t.Text
		}
	}
	return "(no text)"
}

// connect opens the sessions: one shared, or one per worker.
func connect(ctx context.Context, o Options) ([]*mcp.ClientSession, error) {
	client := mcp.NewClient(&mcp.Implementation{Name: "pbatunnel-bench", Version: "1"}, nil)
	n := o.Concurrency
	if o.Target.Shared {
		n = 1
	}
	sessions := make([]*mcp.ClientSession, 0, n)
	for range n {
		s, err := client.Connect(ctx, o.Target.NewTransport(), nil)
		if err != nil {
			for _, s := range sessions {
				_ = s.Close()
			}
			return nil, &ConnectError{Err: err}
		}
		sessions = append(sessions, s)
	}
	return sessions, nil
}

// phase runs o.Concurrency workers until limit calls were issued (0: no
// limit) or issue ends, recording into st when it is not nil. Calls run
// under ctx, so that those in flight when issue ends still complete and
// count, while the end of ctx cuts them short.
func phase(ctx, issue context.Context, o Options, sessions []*mcp.ClientSession, limit int64, st *stats, lost *firstError, seed uint64) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range o.Concurrency {
		session := sessions[w%len(sessions)]
		r := rand.New(rand.NewPCG(seed, uint64(w)))
		wg.Go(func() {
			for issue.Err() == nil {
				n := next.Add(1)
				if limit > 0 && n > limit {
					return
				}
				call := o.Workload.Next(Vars{N: n, Worker: w, Rand: r})
				callCtx, cancel := context.WithTimeout(ctx, o.Timeout)
				t0 := time.Now()
				res, err := session.CallTool(callCtx, &mcp.CallToolParams{Name: call.Tool, Arguments: call.Args})
				d := time.Since(t0)
				cancel()
				f, interrupted := classify(ctx, res, err)
				if interrupted {
					return
				}
				if st != nil {
					st.record(d, f)
				}
				if errors.Is(err, mcp.ErrConnectionClosed) {
					// The session is gone: every further call on it would
					// fail at once and swamp the figures with errors.
					lost.set(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
