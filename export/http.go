package export

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/httppost"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/report"
)

// DefaultQueue is how many reports may wait for a slow endpoint before the
// oldest are dropped.
const DefaultQueue = 16

// An HTTP exporter POSTs the JSON report to URL after every sample, with a
// timeout per attempt and retries with backoff. Reports wait in a bounded
// queue while the endpoint is slow or down; beyond it the oldest are
// dropped and counted. The zero value of every field but URL is a good
// default.
type HTTP struct {
	URL     string
	Timeout time.Duration // per attempt; default 5 s
	Retries int           // 0 = 3, negative = none
	Backoff time.Duration // first backoff; default 500 ms
	Queue   int           // default DefaultQueue
	Headers map[string]string
	Client  *http.Client
	// OnError is told about each report that could not be delivered.
	OnError func(error)

	stats counters
}

// Name is the endpoint with its secrets redacted.
func (h *HTTP) Name() string {
	u, err := httppost.ParseURL(h.URL)
	if err != nil {
		return "export (invalid URL)"
	}
	return "export " + httppost.RedactURL(u)
}

// Validate reports whether URL is an absolute http or https URL.
func (h *HTTP) Validate() error {
	if _, err := httppost.ParseURL(h.URL); err != nil {
		return fmt.Errorf("export URL: %w", err)
	}
	return nil
}

// Run posts the report on every sample until ctx ends, then returns nil.
func (h *HTTP) Run(ctx context.Context, m *monitor.Monitor) error {
	u, err := httppost.ParseURL(h.URL)
	if err != nil {
		return fmt.Errorf("export URL: %w", err)
	}
	p := httppost.New(h.Client, u, h.Headers, h.Timeout, h.Retries, h.Backoff)
	queue := h.Queue
	if queue <= 0 {
		queue = DefaultQueue
	}
	// The subscription is the bounded queue: it keeps the newest `queue`
	// snapshots while a post is in progress and drops the oldest, which the
	// sequence numbers reveal.
	return h.run(ctx, m, p, m.Subscribe(ctx, queue))
}

func (h *HTTP) run(ctx context.Context, m *monitor.Monitor, p httppost.Poster, snaps <-chan *monitor.Snapshot) error {
	for s := range snaps {
		h.stats.seen(s.Seq)
		body, err := json.Marshal(report.For(m, s))
		if err == nil {
			err = p.Post(ctx, body)
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			err = fmt.Errorf("%s: report %d: %w", h.Name(), s.Seq, err)
			h.stats.fail(err)
			if h.OnError != nil {
				h.OnError(err)
			}
			continue
		}
		h.stats.sent.Add(1)
	}
	return nil
}

// Stats says how the export is doing.
func (h *HTTP) Stats() Stats { return h.stats.snapshot() }
