package mcpserver_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/mcpserver"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// startHTTP serves a server without stores over Streamable HTTP.
func startHTTP(t *testing.T, opts *mcpserver.HTTPOptions) (*mcp.Server, string) {
	t.Helper()
	srv := mcpserver.New(mcpserver.Options{Monitor: monitor.New(monitor.Options{DisableSystem: true})})
	h, err := mcpserver.HTTPHandler(srv, opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return srv, hs.URL
}

// post sends one JSON-RPC message and returns the status, the session id
// header and the body.
func post(t *testing.T, url, session, body string) (int, string, string) {
	t.Helper()
	return postHost(t, url, "", session, body)
}

// postHost is post with a Host header of its own, when host is not empty.
func postHost(t *testing.T, url, host, session, body string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header.Get("Mcp-Session-Id"), string(b)
}

func initialize(id int) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`, id)
}

func countSessions(srv *mcp.Server) int {
	n := 0
	for range srv.Sessions() {
		n++
	}
	return n
}

func TestMaxSessions(t *testing.T) {
	srv, url := startHTTP(t, &mcpserver.HTTPOptions{MaxSessions: 3})
	var ids []string
	for i := range 3 {
		status, sid, body := post(t, url, "", initialize(i))
		if status != http.StatusOK || sid == "" {
			t.Fatalf("initialize %d: status %d, session %q: %s", i, status, sid, body)
		}
		ids = append(ids, sid)
	}
	status, sid, body := post(t, url, "", initialize(42))
	if status != http.StatusServiceUnavailable || sid != "" {
		t.Fatalf("initialize past the cap: status %d, session %q: %s", status, sid, body)
	}
	var resp struct {
		ID    json.RawMessage
		Error struct {
			Code    int
			Message string
		}
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		t.Fatalf("503 body is not JSON-RPC: %q", body)
	}
	if string(resp.ID) != "42" || resp.Error.Code != mcpserver.CodeTooManySessions || !strings.Contains(resp.Error.Message, "--max-sessions") {
		t.Errorf("503 body = %s", body)
	}
	// Existing sessions go on working.
	if status, _, body := post(t, url, ids[0], `{"jsonrpc":"2.0","id":7,"method":"ping"}`); status != http.StatusOK {
		t.Errorf("ping in a live session: %d %s", status, body)
	}
	// A session that ends makes room.
	req, _ := http.NewRequest(http.MethodDelete, url, nil)
	req.Header.Set("Mcp-Session-Id", ids[1])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	waitFor(t, func() bool { return countSessions(srv) == 2 })
	if status, sid, body := post(t, url, "", initialize(43)); status != http.StatusOK || sid == "" {
		t.Errorf("initialize after a DELETE: %d %q %s", status, sid, body)
	}
}

func TestSessionTimeout(t *testing.T) {
	srv, url := startHTTP(t, &mcpserver.HTTPOptions{SessionTimeout: 100 * time.Millisecond})
	status, sid, body := post(t, url, "", initialize(1))
	if status != http.StatusOK || sid == "" {
		t.Fatalf("initialize: %d %q %s", status, sid, body)
	}
	waitFor(t, func() bool { return countSessions(srv) == 0 })
	if status, _, _ := post(t, url, sid, `{"jsonrpc":"2.0","id":2,"method":"ping"}`); status != http.StatusNotFound {
		t.Errorf("a request in an expired session: status %d, want 404 so that the client starts a new one", status)
	}
}

// TestMemoryFlatOverManyInitializes starts 10 000 sessions that are never
// ended, as clients that vanish do: the cap keeps the live ones, and so the
// heap, bounded.
func TestMemoryFlatOverManyInitializes(t *testing.T) {
	const max = 200
	srv, url := startHTTP(t, &mcpserver.HTTPOptions{MaxSessions: max})
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	refused := 0
	var atCap uint64
	for i := range 10_000 {
		status, _, _ := post(t, url, "", initialize(i))
		switch status {
		case http.StatusOK:
		case http.StatusServiceUnavailable:
			refused++
		default:
			t.Fatalf("initialize %d: status %d", i, status)
		}
		if i == 2*max {
			atCap = heap()
		}
	}
	if n := countSessions(srv); n != max {
		t.Errorf("%d live sessions, want the cap, %d", n, max)
	}
	if refused != 10_000-max {
		t.Errorf("%d refused, want %d", refused, 10_000-max)
	}
	// A session holds about 5 KB of heap: without the cap, 9 800 more
	// grew it by about 46 MB. 8 MiB leaves room for the GC's slack.
	if end := heap(); end > atCap+8<<20 {
		t.Errorf("heap grew from %d to %d bytes after the cap was reached", atCap, end)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met after 20 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAllowedHostsReachMCP names a host, as a reverse proxy in front of a
// loopback server sends it: /mcp answers it, and still refuses others.
func TestAllowedHostsReachMCP(t *testing.T) {
	_, url := startHTTP(t, &mcpserver.HTTPOptions{AllowedHosts: []string{"dash.example.com"}})
	for _, tt := range []struct {
		host string
		want int
	}{
		{"dash.example.com", http.StatusOK},
		{"app.localhost:8080", http.StatusOK},
		{"rebind.evil.com", http.StatusForbidden},
	} {
		if status, _, body := postHost(t, url, tt.host, "", initialize(1)); status != tt.want {
			t.Errorf("Host %s: status %d, want %d: %s", tt.host, status, tt.want, body)
		}
	}
	if _, err := mcpserver.HTTPHandler(mcp.NewServer(&mcp.Implementation{Name: "x"}, nil), &mcpserver.HTTPOptions{AllowedHosts: []string{"http://x/"}}); err == nil {
		t.Error("a URL was taken as an allowed host")
	}
}

// TestStdioSessionIsNotCountedAgainstTheCap serves stdio and HTTP from one
// server, as serve --stdio does: the stdio session takes no HTTP place.
func TestStdioSessionIsNotCountedAgainstTheCap(t *testing.T) {
	srv := mcpserver.New(mcpserver.Options{Monitor: monitor.New(monitor.Options{DisableSystem: true})})
	st, ct := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(t.Context(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "stdio-like", Version: "1"}, nil).Connect(t.Context(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cs.Close(); ss.Wait() }()
	h, err := mcpserver.HTTPHandler(srv, &mcpserver.HTTPOptions{MaxSessions: 1})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(h)
	defer hs.Close()
	if status, sid, body := post(t, hs.URL, "", initialize(1)); status != http.StatusOK || sid == "" {
		t.Errorf("the one HTTP session allowed: %d %q %s", status, sid, body)
	}
}
