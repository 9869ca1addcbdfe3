package tokens

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/tiktoken-go/tokenizer/codec"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/batchq"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// Defaults used when an Options field is zero.
const (
	DefaultQueue   = 1024
	DefaultMaxText = 4 << 20
)

// Options configure a Counter. The zero value is a good default for every
// field.
type Options struct {
	// Queue bounds the results waiting to be counted; past it, results
	// are dropped (Stats.Dropped). Default 1024.
	Queue int
	// MaxText bounds the text of one result that is counted, in bytes:
	// a larger one is not counted (Stats.TooLarge), so that one huge
	// result cannot hold the counter for seconds. Default 4 MiB.
	MaxText int
}

// Stats say how the counting goes.
type Stats struct {
	// Counted responses, and the tokens they had.
	Counted, Tokens uint64
	// Dropped: offered while the queue was full. TooLarge: beyond
	// Options.MaxText. Failed: not a result that could be read.
	Dropped, TooLarge, Failed uint64
}

// A Counter counts the tokens of the results offered to it, on its own
// goroutine (Run), and records them with Monitor.RecordResponse. Offering
// never blocks. Safe for concurrent use.
type Counter struct {
	m    *monitor.Monitor
	opts Options
	// The counter wakes on its ticker, or when a quarter of the queue is
	// full, not at every call (see batchq).
	queue *batchq.Queue[job]

	counted, tokens, dropped, tooLarge, failed atomic.Uint64
}

// The vocabulary is loaded on first use, once for the process: it takes
// a few hundred milliseconds and tens of megabytes to build. The codec is
// used by one goroutine at a time.
var (
	encOnce sync.Once
	encMu   sync.Mutex
	enc     *codec.Codec
)

// Count returns the o200k_base tokens of text. An empty text has none.
// Safe for concurrent use; counts are taken one at a time.
func Count(text string) (int, error) {
	if text == "" {
		return 0, nil
	}
	encOnce.Do(func() { enc = codec.NewO200kBase() })
	encMu.Lock()
	defer encMu.Unlock()
	n, err := enc.Count(text)
	if err != nil {
		return 0, fmt.Errorf("counting tokens: %w", err)
	}
	return n, nil
}

// job is one result to count: a typed result (the server's own) or a
// response message's bytes (the tunnel's, copied into a pooled buffer).
type job struct {
	callID uint64
	tool   string
	res    *mcp.CallToolResult
	raw    *[]byte
}

var rawPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// New returns a counter recording into m. It counts nothing until Run.
func New(m *monitor.Monitor, opts Options) *Counter {
	if opts.Queue <= 0 {
		opts.Queue = DefaultQueue
	}
	if opts.MaxText <= 0 {
		opts.MaxText = DefaultMaxText
	}
	return &Counter{m: m, opts: opts, queue: batchq.New[job](opts.Queue, 0, opts.Queue/4, 0)}
}

// OfferResult queues the result of the tools/call recorded as callID, to
// count its tokens (its size is the transport's to measure). It reports
// false when the queue was full and the result is not counted.
//
// The counter keeps a shallow copy: the go-sdk sets the result's _meta
// after the handler returns, so the result itself is not the counter's to
// read later; its content and structured content are not changed.
func (c *Counter) OfferResult(callID uint64, tool string, res *mcp.CallToolResult) bool {
	if c == nil || res == nil {
		return false
	}
	if c.full() {
		c.dropped.Add(1) // do not even copy
		return false
	}
	cp := *res
	return c.offer(job{callID: callID, tool: tool, res: &cp})
}

// OfferRaw queues the response message (JSON-RPC, as raw bytes) of the
// tools/call recorded as callID, to count its tokens; its size the
// recorder knew. line is copied: the caller may reuse it at once.
func (c *Counter) OfferRaw(callID uint64, tool string, line []byte) bool {
	if c == nil {
		return false
	}
	if c.full() {
		c.dropped.Add(1) // do not even copy
		return false
	}
	buf := rawPool.Get().(*[]byte)
	*buf = append((*buf)[:0], line...)
	if !c.offer(job{callID: callID, tool: tool, raw: buf}) {
		rawPool.Put(buf)
		return false
	}
	return true
}

func (c *Counter) full() bool { return c.queue.Full() }

func (c *Counter) offer(j job) bool {
	if !c.queue.Put(j, 0) {
		c.dropped.Add(1)
		return false
	}
	return true
}

// countInterval is how often Run wakes to count what is queued: a
// call's tokens show at most this much after its answer, unless the
// queue fills faster.
const countInterval = 20 * time.Millisecond

// Run counts the queued results until ctx ends, then returns nil. Run it
// once.
func (c *Counter) Run(ctx context.Context) error {
	tick := time.NewTicker(countInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.queue.Kick():
		case <-tick.C:
		}
		c.Drain()
	}
}

// Drain counts what is queued now, on the caller's goroutine (Run, tests,
// and a counter driven without Run).
func (c *Counter) Drain() {
	for _, j := range c.queue.Take(nil) {
		c.count(j)
	}
}

func (c *Counter) count(j job) {
	var (
		text string
		err  error
	)
	if j.raw != nil {
		text, err = rawText(*j.raw)
		rawPool.Put(j.raw)
	} else {
		text, err = resultText(j.res)
	}
	switch {
	case err != nil:
		c.failed.Add(1)
		return
	case len(text) > c.opts.MaxText:
		c.tooLarge.Add(1)
		return
	}
	n, err := Count(text)
	if err != nil {
		c.failed.Add(1)
		return
	}
	c.counted.Add(1)
	c.tokens.Add(uint64(n))
	c.m.RecordResponse(j.callID, j.tool, 0, int64(n))
}

// Stats returns how the counting goes.
func (c *Counter) Stats() Stats {
	if c == nil {
		return Stats{}
	}
	return Stats{
		Counted: c.counted.Load(), Tokens: c.tokens.Load(),
		Dropped: c.dropped.Load(), TooLarge: c.tooLarge.Load(), Failed: c.failed.Load(),
	}
}
