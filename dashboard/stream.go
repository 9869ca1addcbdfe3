package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// heartbeat keeps idle streams open through proxies and lets the page see
// that the connection is alive between samples.
const heartbeat = 15 * time.Second

// clientBuffer is how many events a slow client may fall behind before it
// loses the oldest.
const clientBuffer = 16

// event is one Server-Sent Event, encoded once for all clients.
type event struct {
	name string
	id   string
	data []byte
}

// callsEvery is how often the stream sends the calls recorded since it
// last did, and callsPerEvent how many of them at most: a browser cannot
// show thousands of rows a second, and the page's log is a view, not the
// record (GET /api/calls pages through every call kept).
const (
	callsEvery    = 250 * time.Millisecond
	callsPerEvent = 200
)

// broadcaster turns each snapshot into one "sample" event (the report, as
// /api/metrics returns it), each alert transition into an "alert" event
// and the calls recorded since the last tick into one "calls" event,
// encoding each once and fanning it out with non-blocking sends: a slow
// browser never stalls the monitor or the other clients.
type broadcaster struct {
	report *reportCache
	events monitor.Fanout[event]
}

func (b *broadcaster) run(ctx context.Context, m *monitor.Monitor, e *alert.Engine) {
	samples := m.Subscribe(ctx, 4)
	var alerts <-chan alert.Alert // nil, never ready, without an engine
	if e != nil {
		alerts = e.Subscribe(ctx, 64)
	}
	// The calls are read from the monitor's ring on a tick rather than
	// subscribed to, so that a call costs the recorder nothing more for
	// being watched.
	tick := time.NewTicker(callsEvery)
	defer tick.Stop()
	sent := m.LastCallID()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if b.events.Len() == 0 {
				sent = m.LastCallID() // nobody to tell: a new client starts from now
				continue
			}
			var ev event
			ev, sent = callsEvent(m, sent)
			if ev.data != nil {
				b.events.Publish(ev)
			}
		case s, ok := <-samples:
			if !ok {
				return
			}
			if b.events.Len() == 0 {
				continue // nobody to tell: build no report
			}
			b.events.Publish(sampleEvent(b.report.of(s)))
		case a, ok := <-alerts:
			if !ok {
				return
			}
			data, err := json.Marshal(a)
			if err != nil {
				continue
			}
			b.events.Publish(event{name: "alert", data: data})
		}
	}
}

// callsEvent encodes the calls after the one numbered sent as the data of
// a "calls" event, {"calls": [...newest first], "skipped": N}, N counting
// the older ones it leaves out (the page says so, and /api/calls has
// them); it returns the number of the newest it sent, and no data when
// there are none. A call numbered but not yet stored by its recorder is
// picked up next time if it is the newest.
func callsEvent(m *monitor.Monitor, sent uint64) (event, uint64) {
	last := m.LastCallID()
	if last <= sent {
		return event{}, sent
	}
	data := []byte(`{"calls":[`)
	var newest, skipped uint64
	n := 0
	for c := range m.CallsBefore(last + 1) {
		if c.ID <= sent {
			break
		}
		if n == callsPerEvent {
			skipped = c.ID - sent // this one and every older one not sent
			break
		}
		if n == 0 {
			newest = c.ID
		} else {
			data = append(data, ',')
		}
		data = appendCall(data, &c)
		n++
	}
	if n == 0 {
		return event{}, sent
	}
	data = append(data, `],"skipped":`...)
	data = strconv.AppendUint(data, skipped, 10)
	data = append(data, '}')
	return event{name: "calls", data: data}, newest
}

func sampleEvent(r *cachedReport) event {
	return event{name: "sample", id: fmt.Sprint(r.seq), data: r.json}
}

// serve is GET /api/stream.
func (b *broadcaster) serve(w http.ResponseWriter, r *http.Request) {
	if !checkParams(w, r) {
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	ch := b.events.Subscribe(r.Context(), clientBuffer)

	write := func(e event) error {
		if e.id != "" {
			if _, err := fmt.Fprintf(w, "id: %s\n", e.id); err != nil {
				return err
			}
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.name, e.data); err != nil {
			return err
		}
		return rc.Flush()
	}
	// Tell EventSource clients how soon to reconnect, and send the current
	// state at once so the page does not wait a whole interval.
	if _, err := fmt.Fprint(w, "retry: 3000\n\n"); err != nil {
		return
	}
	if r := b.report.latest(); r.seq != 0 {
		if write(sampleEvent(r)) != nil {
			return
		}
	} else if rc.Flush() != nil {
		return
	}
	t := time.NewTicker(heartbeat)
	defer t.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case e, ok := <-ch:
			if !ok || write(e) != nil {
				return
			}
		case <-t.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}
