// Package monitor measures an MCP server: its tool calls, store queries,
// cache, application gauges and custom metrics on the hot path, and the host,
// container and process on a sampling tick. Each tick produces an immutable
// Snapshot, kept in a bounded history from which trends, windowed rates and
// the Report are computed.
//
// Recording (RecordToolUsage, ObserveQuery, RecordCacheLookup, custom
// metrics) is safe for concurrent use, lock-free and allocation-free once a
// name has been seen. Readers (Latest, History, Report) never take the locks
// of the recording path.
package monitor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// ErrStarted is returned by Start when the monitor is already sampling.
var ErrStarted = errors.New("monitor already started")

// A Monitor collects metrics. Create one with New; the zero value is not
// usable. All methods are safe for concurrent use.
type Monitor struct {
	opts Options // set by New, never changed: readers take it without a lock
	// interval is the sampling interval, Options.Interval until Start is
	// given another; atomic because readers may ask while Start sets it.
	interval atomic.Int64
	clock    coarseClock

	tools            registry[toolStats]
	otherTool        atomic.Pointer[toolStats]
	droppedToolNames atomic.Uint64

	droppedCustomNames atomic.Uint64

	queries     *latencyStats
	methods     registry[latencyStats]
	toolsCall   *latencyStats // methods' tools/call, set by New
	cacheHits   atomic.Uint64
	cacheMisses atomic.Uint64

	gauges   registry[gaugeFunc]
	watched  watched
	counters registry[Counter]
	values   registry[Gauge]
	timers   registry[Timer]

	started time.Time // set once by New; real monitoring time starts here

	sampleMu sync.Mutex // one sample at a time
	sampler  *sampler   // owned under sampleMu

	calls    callRing
	history  history
	latest   atomic.Pointer[Snapshot]
	subs     Fanout[*Snapshot]
	judgesMu sync.Mutex
	judges   []func(context.Context, *Snapshot)

	runMu  sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a Monitor configured by opts. It does not sample until Start
// (or Sample) is called.
func New(opts Options) *Monitor {
	// An injected clock (tests) is read on every call, so that timestamps
	// are exact; the real one is read coarsely.
	coarse := opts.Now == nil
	opts = opts.withDefaults()
	m := &Monitor{opts: opts, queries: newLatencyStats()}
	m.interval.Store(int64(opts.Interval))
	m.clock.now, m.clock.coarse, m.clock.resolution = opts.Now, coarse, clockResolution
	m.tools.limit = opts.MaxTools
	m.gauges.limit = opts.MaxTools
	m.counters.limit = opts.MaxTools
	m.values.limit = opts.MaxTools
	m.timers.limit = opts.MaxTools
	// One slot is kept for OtherMethod, added first so it always fits;
	// tools/call is added next, so that RecordCall finds it without a map
	// lookup.
	m.methods.getOrAdd(OtherMethod, newLatencyStats)
	m.toolsCall = m.methods.getOrAdd(MethodToolsCall, newLatencyStats)
	m.methods.limit = maxMethods + 1
	other := &toolStats{}
	other.init()
	m.otherTool.Store(other)
	m.started = opts.Now()
	m.history.init(opts.MaxSamples, opts.MaxAge)
	m.calls.init(opts.CallRing)
	m.sampler = newSampler(m)
	return m
}

// Options returns the effective options, defaults filled in, with the
// interval Start was given.
func (m *Monitor) Options() Options {
	o := m.opts
	o.Interval = m.Interval()
	return o
}

// Interval is the time between samples: Options.Interval, or what Start
// was given. Safe for concurrent use.
func (m *Monitor) Interval() time.Duration { return time.Duration(m.interval.Load()) }

// Start takes a first sample at once, a second one a second later (so that
// rates are known quickly), and then one every interval until ctx ends or
// Stop is called. An interval of 0 means Options.Interval. Start returns
// ErrStarted if the monitor is already running.
func (m *Monitor) Start(ctx context.Context, interval time.Duration) error {
	if interval < 0 {
		return fmt.Errorf("monitor: negative interval %v", interval)
	}
	if interval == 0 {
		interval = m.Interval()
	}
	m.runMu.Lock()
	defer m.runMu.Unlock()
	if m.done != nil {
		return ErrStarted
	}
	ctx, cancel := context.WithCancel(ctx)
	m.cancel = cancel
	m.done = make(chan struct{})
	m.interval.Store(int64(interval))
	var wg sync.WaitGroup
	m.Sample(ctx)
	wg.Add(1)
	go func() { defer wg.Done(); m.loop(ctx, interval) }()
	done := m.done
	go func() {
		wg.Wait()
		m.runMu.Lock()
		m.done, m.cancel = nil, nil
		m.runMu.Unlock()
		close(done)
	}()
	return nil
}

// Stop ends sampling started by Start and waits for it to finish. It is a
// no-op when the monitor is not running.
func (m *Monitor) Stop() {
	m.runMu.Lock()
	cancel, done := m.cancel, m.done
	m.runMu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

// Done returns a channel closed when sampling started by Start has ended, or
// nil when the monitor is not running.
func (m *Monitor) Done() <-chan struct{} {
	m.runMu.Lock()
	defer m.runMu.Unlock()
	return m.done
}

func (m *Monitor) loop(ctx context.Context, interval time.Duration) {
	first := time.NewTimer(min(time.Second, interval))
	defer first.Stop()
	select {
	case <-ctx.Done():
		return
	case <-first.C:
		m.Sample(ctx)
	}
	// A ticker keeps the cadence even when a sample takes a while.
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.Sample(ctx)
		}
	}
}

// Latest returns the most recent snapshot, or nil before the first sample.
func (m *Monitor) Latest() *Snapshot { return m.latest.Load() }

// History returns the retained snapshots, oldest first. The slice is the
// caller's; the snapshots are shared and must not be modified.
func (m *Monitor) History() []*Snapshot { return m.history.all() }

// Since returns the retained snapshots taken at or after t, oldest first.
func (m *Monitor) Since(t time.Time) []*Snapshot { return m.history.since(t) }
