package telemetry

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/batchq"
)

// Defaults of the batching, as the OpenTelemetry specification gives them
// for OTEL_BSP_*.
const (
	defaultQueueSize     = 2048
	defaultBatchSize     = 512
	defaultScheduleDelay = 5 * time.Second
	defaultExportTimeout = 30 * time.Second
)

// batching configures a batcher.
type batching struct {
	QueueSize     int
	BatchSize     int
	ScheduleDelay time.Duration
	ExportTimeout time.Duration
}

// A sink takes the spans that end.
type sink interface {
	put(o *Op) // o has ended, and is not changed after
	ForceFlush(ctx context.Context) error
	Shutdown(ctx context.Context) error
}

// processorSink hands each span to an SDK span processor as it ends.
type processorSink struct{ sp sdktrace.SpanProcessor }

func (p processorSink) put(o *Op) {
	// A processor may keep the span: its attributes are its own.
	s, _ := o.snapshot(nil)
	p.sp.OnEnd(s)
}
func (p processorSink) ForceFlush(ctx context.Context) error { return p.sp.ForceFlush(ctx) }
func (p processorSink) Shutdown(ctx context.Context) error   { return p.sp.Shutdown(ctx) }

// batcher queues spans and exports them in batches, as the SDK's batch
// processor does, and counts its losses: a span that finds the queue full
// is dropped, never waited for, and a batch the exporter refuses is lost.
// The SDK's own processor counts its drops only behind an experimental
// switch, and a page that says "no spans lost" must know. The spans are
// turned into the exporter's records here, off the requests' path.
type batcher struct {
	up    uploader
	cfg   batching
	count func(name string, n uint64) // nil: not told

	// The exporting goroutine wakes on its timer, or once a batch is
	// queued, not at every span (see batchq).
	queue *batchq.Queue[*Op]
	// ends are the requests whose spans are made here (Finish).
	ends  *endings
	flush chan chan struct{}
	done  chan struct{}
	stop  sync.Once
	wg    sync.WaitGroup

	exported, dropped, failed atomic.Uint64
	lastErr                   atomic.Pointer[string]
}

// newBatcher exports with up.
func newBatcher(up uploader, cfg batching, count func(string, uint64)) *batcher {
	b := &batcher{
		up:    up,
		cfg:   cfg,
		count: count,
		queue: batchq.New[*Op](cfg.QueueSize, 0, cfg.BatchSize, 0),
		ends:  newEndings(cfg.BatchSize, cfg.QueueSize),
		flush: make(chan chan struct{}),
		done:  make(chan struct{}),
	}
	b.wg.Add(1)
	go b.run()
	return b
}

// put queues a span, or drops it when the queue is full or closed.
func (b *batcher) put(s *Op) {
	if !b.queue.Put(s, 0) {
		b.drop()
	}
}

func (b *batcher) run() {
	defer b.wg.Done()
	timer := time.NewTimer(b.cfg.ScheduleDelay)
	defer timer.Stop()
	var taken []*Op
	send := func() {
		b.ends.end()
		taken = b.queue.Take(taken)
		queued := taken
		for len(queued) > 0 {
			n := min(len(queued), b.cfg.BatchSize)
			b.export(queued[:n])
			clear(queued[:n]) // no request kept alive
			queued = queued[n:]
		}
	}
	for {
		select {
		case <-b.queue.Kick():
			send()
		case <-b.ends.wake:
			send()
		case <-timer.C:
			send()
			timer.Reset(b.cfg.ScheduleDelay)
		case ack := <-b.flush:
			send()
			close(ack)
		case <-b.done:
			b.ends.close()
			b.ends.end()
			b.queue.Close()
			send()
			return
		}
	}
}

func (b *batcher) export(ops []*Op) {
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.ExportTimeout)
	defer cancel()
	n := uint64(len(ops))
	if err := b.up.upload(ctx, ops); err != nil {
		b.failed.Add(n)
		msg := err.Error()
		b.lastErr.Store(&msg)
		b.tell(CounterSpansFailed, n)
		return
	}
	b.exported.Add(n)
	b.tell(CounterSpansExported, n)
}

func (b *batcher) drop() {
	b.dropped.Add(1)
	b.tell(CounterSpansDropped, 1)
}

func (b *batcher) tell(name string, n uint64) {
	if b.count != nil {
		b.count(name, n)
	}
}

// ForceFlush exports what is queued, waiting until it is sent or ctx ends.
func (b *batcher) ForceFlush(ctx context.Context) error {
	ack := make(chan struct{})
	select {
	case b.flush <- ack:
	case <-b.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-ack:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown exports what is queued and stops; spans ended later are
// dropped.
func (b *batcher) Shutdown(ctx context.Context) error {
	b.stop.Do(func() { close(b.done) })
	waited := make(chan struct{})
	go func() { b.wg.Wait(); close(waited) }()
	var err error
	select {
	case <-waited:
	case <-ctx.Done():
		err = ctx.Err()
	}
	return errors.Join(err, b.up.Shutdown(ctx))
}
