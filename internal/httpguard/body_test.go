package httpguard_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/httpguard"
)

// TestBodyTimeoutEndsAnnouncedBodyThatNeverComes sends a POST that
// announces 10 bytes and sends none: the server must give up on it within
// the body timeout instead of holding the connection.
func TestBodyTimeoutEndsAnnouncedBodyThatNeverComes(t *testing.T) {
	readErr := make(chan error, 1)
	h := httpguard.BodyTimeout(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		readErr <- err
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestTimeout)
		}
	}), 100*time.Millisecond)
	srv := httptest.NewServer(h)
	defer srv.Close()

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	// A generous bound: the point is that the read ends at all, which
	// without the guard it does not until the client goes away.
	select {
	case err := <-readErr:
		if err == nil {
			t.Fatal("the body read succeeded with no body sent")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the body read is still waiting for a body that never comes")
	}
}

// TestBodyTimeoutLeavesStreamingResponsesAlone reads a body quickly, then
// streams a response for longer than the body timeout: the stream must not
// be cut, and the request's context must not end.
func TestBodyTimeoutLeavesStreamingResponsesAlone(t *testing.T) {
	const timeout = 50 * time.Millisecond
	h := httpguard.BodyTimeout(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			t.Errorf("reading the body: %v", err)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 6 {
			select {
			case <-r.Context().Done():
				t.Errorf("the request's context ended after %d events: %v", i, context(r))
				return
			case <-time.After(timeout):
			}
			_, _ = io.WriteString(w, "data: tick\n\n")
			w.(http.Flusher).Flush()
		}
	}), timeout)
	srv := httptest.NewServer(h)
	defer srv.Close()

	res, err := http.Post(srv.URL, "application/json", strings.NewReader(`{"jsonrpc":"2.0"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	n := 0
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if sc.Text() == "data: tick" {
			n++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("stream cut after %d events: %v", n, err)
	}
	if n != 6 {
		t.Fatalf("got %d events, want 6", n)
	}
}

func context(r *http.Request) error { return r.Context().Err() }
