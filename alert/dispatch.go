package alert

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// DefaultQueue is how many notifications wait for a handler before
// new ones to it are dropped.
const DefaultQueue = 256

// dispatcher delivers notifications to the handlers. While the engine runs
// (Start), each handler has a goroutine and a bounded queue of its own, so a
// dead webhook delays nothing but itself and never the sampler or the tool
// calls; when the queue is full the notification is dropped and counted.
// When it does not run (a monitor driven by hand, Sample without Start),
// handlers are called inline.
type dispatcher struct {
	mu      sync.Mutex
	list    []*handlerEntry
	runCtx  context.Context // nil unless running
	wg      sync.WaitGroup
	queue   int
	onError func(name string, err error)
}

type handlerEntry struct {
	name      string
	h         Handler
	ch        chan Alert
	delivered atomic.Uint64
	failed    atomic.Uint64
	dropped   atomic.Uint64
	lastErr   atomic.Pointer[string]
}

// OnAlert adds a handler for alert notifications (the guide's
// set_alert_handler; several are allowed).
func (e *Engine) OnAlert(h Handler) {
	d := &e.dispatch
	name := fmt.Sprintf("handler %d", len(d.handlers())+1)
	if n, ok := h.(NamedHandler); ok {
		name = n.Name()
	}
	he := &handlerEntry{name: name, h: h, ch: make(chan Alert, d.queue)}
	d.mu.Lock()
	d.list = append(d.list, he)
	if d.runCtx != nil {
		d.startLocked(he)
	}
	d.mu.Unlock()
}

func (d *dispatcher) handlers() []*handlerEntry {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]*handlerEntry(nil), d.list...)
}

// run starts the workers; they end with ctx.
func (d *dispatcher) run(ctx context.Context) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.runCtx = ctx
	for _, e := range d.list {
		d.startLocked(e)
	}
	context.AfterFunc(ctx, func() {
		d.mu.Lock()
		if d.runCtx == ctx { // not already replaced by a later run
			d.runCtx = nil
		}
		d.mu.Unlock()
	})
}

// wait waits for the workers of every run to end.
func (d *dispatcher) wait() { d.wg.Wait() }

func (d *dispatcher) startLocked(e *handlerEntry) {
	ctx := d.runCtx
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case a := <-e.ch:
				d.deliver(ctx, e, a)
			}
		}
	}()
}

func (d *dispatcher) deliver(ctx context.Context, e *handlerEntry, a Alert) {
	if err := e.h.HandleAlert(ctx, a); err != nil {
		if ctx.Err() != nil {
			// Shutting down: the notification is lost, but the handler
			// did not fail.
			e.dropped.Add(1)
			return
		}
		e.failed.Add(1)
		msg := err.Error()
		e.lastErr.Store(&msg)
		if d.onError != nil {
			d.onError(e.name, err)
		}
		return
	}
	e.delivered.Add(1)
}

// send hands the notifications to every handler without blocking while
// running, or delivers them inline otherwise.
func (d *dispatcher) send(ctx context.Context, alerts []Alert) {
	if len(alerts) == 0 {
		return
	}
	d.mu.Lock()
	running := d.runCtx != nil
	list := append([]*handlerEntry(nil), d.list...)
	d.mu.Unlock()
	for _, e := range list {
		for _, a := range alerts {
			if !running {
				d.deliver(ctx, e, a)
				continue
			}
			select {
			case e.ch <- a:
			default:
				e.dropped.Add(1)
			}
		}
	}
}

// HandlerStats is how one alert handler is doing.
type HandlerStats struct {
	Name      string `json:"name"`
	Delivered uint64 `json:"delivered"`
	Failed    uint64 `json:"failed"`
	// Dropped counts notifications lost because the handler's queue was
	// full: the handler is slower than alerts arrive.
	Dropped   uint64 `json:"dropped"`
	Queued    int    `json:"queued"`
	LastError string `json:"last_error,omitempty"`
}

// HandlerStats returns delivery figures for every handler.
func (e *Engine) HandlerStats() []HandlerStats {
	if e == nil {
		return nil
	}
	var out []HandlerStats
	for _, h := range e.dispatch.handlers() {
		s := HandlerStats{
			Name: h.name, Delivered: h.delivered.Load(), Failed: h.failed.Load(),
			Dropped: h.dropped.Load(), Queued: len(h.ch),
		}
		if p := h.lastErr.Load(); p != nil {
			s.LastError = *p
		}
		out = append(out, s)
	}
	return out
}
