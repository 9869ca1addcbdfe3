package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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

// broadcaster turns each snapshot into one "sample" event (the report, as
// /api/metrics returns it) and each alert transition into an "alert" event,
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
	for {
		select {
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
