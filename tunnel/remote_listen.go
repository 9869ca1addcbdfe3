package tunnel

import (
	"context"
	"net/http"
	"time"
)

// listen holds the session's GET stream open, relaying the server's own
// requests and notifications, until ctx ends. A stream that drops is
// opened again after a backoff, doubling from 100 ms to MaxBackoff, and
// back to 100 ms after a stream that lived a minute; a server that offers
// no GET stream (405) is not asked again.
func (r *Remote) listen(ctx context.Context) {
	delay := 100 * time.Millisecond
	for ctx.Err() == nil {
		opened := time.Now()
		status := r.listenOnce(ctx)
		switch {
		case status == http.StatusMethodNotAllowed:
			r.log.Debug("the MCP server offers no stream of its own messages (GET 405)")
			return
		case status == http.StatusNotFound:
			r.log.Warn("the MCP server ended the session; its messages outside requests no longer arrive")
			return
		case ctx.Err() != nil:
			return
		}
		if time.Since(opened) > time.Minute {
			delay = 100 * time.Millisecond
		}
		r.log.Debug("the MCP server's stream ended; opening it again", "status", status, "after", delay)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay = min(2*delay, r.opts.MaxBackoff)
	}
}

// listenOnce opens the GET stream and relays it until it ends; it returns
// the HTTP status, 0 when none came.
func (r *Remote) listenOnce(ctx context.Context) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.endpoint, nil)
	if err != nil {
		return 0
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("User-Agent", userAgent)
	sent := r.sessionHeaders(req)
	res, err := r.client.Do(req)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	switch res.StatusCode {
	case http.StatusOK:
		_ = r.relayEvents(res.Body, nil)
	case http.StatusNotFound:
		r.sessionGone(sent)
	}
	return res.StatusCode
}

// endSession tells the server the session is over, as a client that
// leaves should; a server that does not take DELETE (405) is fine.
func (r *Remote) endSession() {
	r.mu.Lock()
	session := r.session
	r.mu.Unlock()
	if session == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, r.endpoint, nil)
	if err != nil {
		return
	}
	req.Header.Set("User-Agent", userAgent)
	r.sessionHeaders(req)
	if res, err := r.client.Do(req); err == nil {
		res.Body.Close()
	}
}
