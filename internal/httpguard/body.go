package httpguard

import (
	"net/http"
	"time"
)

// DefaultBodyTimeout bounds the reading of a request body when no other
// bound is given.
const DefaultBodyTimeout = 30 * time.Second

// BodyTimeout wraps h so that the body of each request must arrive within d
// (DefaultBodyTimeout when d <= 0): a client that announces a body and
// never sends it holds a connection and a goroutine for d at most, not for
// good. The deadline covers the body only: net/http clears a connection's
// read deadline once a body has been read to its end, so a response that
// streams for hours (an SSE stream, a long tool call) is not cut off by it,
// and the next request on the connection starts with the server's own
// deadlines. Requests without a body are passed through untouched.
func BodyTimeout(h http.Handler, d time.Duration) http.Handler {
	if d <= 0 {
		d = DefaultBodyTimeout
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
			// A ResponseWriter that cannot set deadlines (a test
			// recorder) is served as it is.
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(d))
		}
		h.ServeHTTP(w, r)
	})
}
