package tunnel_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
)

// The tests here cover how the tunnel forwards requests to the server and
// relays its responses: connections kept and re-dialled, a server that
// drops a request, event streams, interim responses, trailers, hop-by-hop
// headers, and requests of every size, with a query, or over TLS.

const toolCall = `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{}}}`

var toolAnswer = `{"jsonrpc":"2.0","id":3,"result":{"content":[]}}`

// rawUpstream serves connections by hand, so that a test can close them
// where net/http would not. serve runs once per connection; it returns the
// URL of the endpoint and the number of connections accepted so far.
func rawUpstream(t *testing.T, serve func(n int, c net.Conn, br *bufio.Reader)) (string, func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu       sync.Mutex
		conns    []net.Conn
		accepted atomic.Int64
		wg       sync.WaitGroup
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			n := int(accepted.Add(1))
			wg.Go(func() {
				defer c.Close()
				serve(n, c, bufio.NewReader(c))
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close() // the tunnel's kept-alive connections too
		}
		mu.Unlock()
		wg.Wait()
	})
	return "http://" + ln.Addr().String() + "/mcp", func() int { return int(accepted.Load()) }
}

// answerJSON reads a request from br and answers it with body, keeping
// the connection open; it reports false once the connection is done.
func answerJSON(c net.Conn, br *bufio.Reader, body string) bool {
	req, err := http.ReadRequest(br)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, req.Body)
	_, err = fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	return err == nil
}

// postCall POSTs a tools/call to endpoint and returns the status and body.
func postCall(t *testing.T, client *http.Client, endpoint string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(toolCall))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

func newClient(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func TestHTTPKeepsConnectionsToServer(t *testing.T) {
	for _, ct := range []string{"application/json", "text/event-stream"} {
		t.Run(ct, func(t *testing.T) {
			var conns atomic.Int64
			up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", ct)
				if ct == "text/event-stream" {
					io.WriteString(w, "data: "+toolAnswer+"\n\n")
					w.(http.Flusher).Flush() // chunked, as a stream comes
					return
				}
				io.WriteString(w, toolAnswer)
			}))
			up.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			up.Start()
			defer up.Close()
			m := newMonitor()
			_, proxy := startHTTPTunnel(t, m, up.URL+"/mcp", tunnel.HTTPOptions{})
			client := newClient(t)
			for range 20 {
				if status, body := postCall(t, client, proxy.URL+"/mcp"); status != http.StatusOK || !strings.Contains(body, toolAnswer) {
					t.Fatalf("got %d %s", status, body)
				}
			}
			if n := conns.Load(); n != 1 {
				t.Errorf("the server saw %d connections for 20 requests in turn, want 1", n)
			}
			if got := m.Sample(t.Context()).Methods["tools/call"]; got.Count != 20 || got.Errors != 0 {
				t.Errorf("tools/call = %+v, want 20 without errors", got)
			}
		})
	}
}

func TestHTTPServerClosingIdleConnection(t *testing.T) {
	closed := make(chan struct{}, 2)
	endpoint, accepted := rawUpstream(t, func(_ int, c net.Conn, br *bufio.Reader) {
		// One answer per connection, which is then closed without a
		// "Connection: close": as a server does whose idle timeout runs
		// out right after.
		answerJSON(c, br, toolAnswer)
		c.Close()
		closed <- struct{}{}
	})
	m := newMonitor()
	_, proxy := startHTTPTunnel(t, m, endpoint, tunnel.HTTPOptions{})
	client := newClient(t)
	for i := range 2 {
		if status, body := postCall(t, client, proxy.URL+"/mcp"); status != http.StatusOK || body != toolAnswer {
			t.Fatalf("call %d: got %d %s", i, status, body)
		}
		<-closed
	}
	if n := accepted(); n != 2 {
		t.Errorf("the server accepted %d connections, want 2", n)
	}
	if got := m.Sample(t.Context()).Methods["tools/call"]; got.Count != 2 || got.Errors != 0 {
		t.Errorf("tools/call = %+v, want 2 without errors", got)
	}
}

func TestHTTPServerDroppingRequest(t *testing.T) {
	endpoint, accepted := rawUpstream(t, func(_ int, c net.Conn, br *bufio.Reader) {
		// The first request is answered, the second read and left: the
		// connection closes under it.
		if answerJSON(c, br, toolAnswer) {
			http.ReadRequest(br)
		}
	})
	m := newMonitor()
	_, proxy := startHTTPTunnel(t, m, endpoint, tunnel.HTTPOptions{})
	client := newClient(t)
	if status, body := postCall(t, client, proxy.URL+"/mcp"); status != http.StatusOK || body != toolAnswer {
		t.Fatalf("first call: got %d %s", status, body)
	}
	status, body := postCall(t, client, proxy.URL+"/mcp")
	if status != http.StatusBadGateway || !strings.Contains(body, `"code":-32000`) || !strings.Contains(body, "upstream MCP server unreachable") {
		t.Errorf("second call: got %d %s, want 502 with a JSON-RPC error", status, body)
	}
	// The server may have acted on the request: a POST is not sent
	// again, as http.Transport would not send it again either.
	if n := accepted(); n != 1 {
		t.Errorf("the server accepted %d connections, want 1", n)
	}
	got := m.Sample(t.Context()).Methods["tools/call"]
	if got.Count != 2 || got.ErrorTypes[tunnel.ErrorTypeUpstreamError] != 1 {
		t.Errorf("tools/call = %+v, want 2, one %s", got, tunnel.ErrorTypeUpstreamError)
	}
}

func TestHTTPServerDroppingRequestAnswersItsIDs(t *testing.T) {
	// Every request is read and its connection closed unanswered.
	endpoint, _ := rawUpstream(t, func(_ int, c net.Conn, br *bufio.Reader) {
		http.ReadRequest(br)
	})
	m := newMonitor()
	_, proxy := startHTTPTunnel(t, m, endpoint, tunnel.HTTPOptions{})
	client := newClient(t)
	const ping = `{"jsonrpc":"2.0","id":"p-1","method":"ping"}`
	const note = `{"jsonrpc":"2.0","method":"notifications/initialized"}`

	for _, tt := range []struct {
		name, query, body string
		batch             bool
		wantIDs           []string // raw, in any order
	}{
		{name: "request", body: toolCall, wantIDs: []string{"3"}},
		{name: "string id", body: ping, wantIDs: []string{`"p-1"`}},
		{name: "batch", body: "[" + toolCall + "," + note + "," + ping + "]", batch: true, wantIDs: []string{"3", `"p-1"`}},
		{name: "batch of one", body: "[" + ping + "]", batch: true, wantIDs: []string{`"p-1"`}},
		{name: "notification has no id", body: note, wantIDs: []string{"null"}},
		{name: "request with a query", query: "?k=v", body: ping, wantIDs: []string{`"p-1"`}},
		{name: "batch with a query", query: "?k=v", body: "[" + toolCall + "," + ping + "]", batch: true, wantIDs: []string{"3", `"p-1"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, proxy.URL+"/mcp"+tt.query, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != http.StatusBadGateway || res.Header.Get("Content-Type") != "application/json" {
				t.Errorf("got %s %q, want 502 with JSON", res.Status, res.Header.Get("Content-Type"))
			}
			type rpcError struct {
				JSONRPC string          `json:"jsonrpc"`
				ID      json.RawMessage `json:"id"`
				Error   struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			var got []rpcError
			if tt.batch {
				err = json.Unmarshal(b, &got)
			} else {
				got = make([]rpcError, 1)
				err = json.Unmarshal(b, &got[0])
			}
			if err != nil {
				t.Fatalf("body %s: %v (batch %v)", b, err, tt.batch)
			}
			var ids []string
			for _, e := range got {
				ids = append(ids, string(e.ID))
				if e.JSONRPC != "2.0" || e.Error.Code != -32000 || !strings.Contains(e.Error.Message, "upstream MCP server unreachable") {
					t.Errorf("response %+v, want JSON-RPC error -32000 saying the server is unreachable", e)
				}
			}
			slices.Sort(ids)
			want := slices.Sorted(slices.Values(tt.wantIDs))
			if !slices.Equal(ids, want) {
				t.Errorf("ids %v, want %v, in %s", ids, want, b)
			}
		})
	}
}

func TestHTTPStreamsEachEventAtOnce(t *testing.T) {
	headersSeen, firstSeen := make(chan struct{}), make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		for _, step := range []struct {
			wait  chan struct{}
			event string
		}{
			{headersSeen, `{"jsonrpc":"2.0","method":"notifications/progress","params":{}}`},
			{firstSeen, toolAnswer},
		} {
			select {
			case <-step.wait:
			case <-time.After(10 * time.Second):
				return // held back: the test fails below
			}
			fmt.Fprintf(w, "event: message\ndata: %s\n\n", step.event)
			w.(http.Flusher).Flush()
		}
	}))
	defer up.Close()
	m := newMonitor()
	_, proxy := startHTTPTunnel(t, m, up.URL+"/mcp", tunnel.HTTPOptions{})
	req, _ := http.NewRequest(http.MethodPost, proxy.URL+"/mcp", strings.NewReader(toolCall))
	res, err := newClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	close(headersSeen) // the headers came before any event
	br := bufio.NewReader(res.Body)
	readEvent := func() string {
		t.Helper()
		var data string
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("reading an event: %v", err)
			}
			if line == "\n" {
				return data
			}
			data += strings.TrimPrefix(strings.TrimSuffix(line, "\n"), "data: ")
		}
	}
	if ev := readEvent(); !strings.Contains(ev, "notifications/progress") {
		t.Errorf("first event %q", ev)
	}
	close(firstSeen)
	if ev := readEvent(); !strings.Contains(ev, toolAnswer) {
		t.Errorf("second event %q", ev)
	}
	if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
		t.Errorf("after the events: %q, %v", rest, err)
	}
	s := m.Sample(t.Context())
	if got := s.Methods["tools/call"]; got.Count != 1 || got.Errors != 0 {
		t.Errorf("tools/call = %+v, want 1", got)
	}
	if n := s.Custom.Counters[tunnel.CounterServerNotifications]; n != 1 {
		t.Errorf("server notifications = %v, want 1", n)
	}
}

func TestHTTPHeadersOfPOST(t *testing.T) {
	var got http.Header
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Trailer", "X-Checksum")
		w.Header().Set("Mcp-Session-Id", "s-9")
		w.Header().Set("Keep-Alive", "timeout=5") // hop-by-hop: not relayed
		io.WriteString(w, toolAnswer)
		w.Header().Set("X-Checksum", "abc")
	}))
	defer up.Close()
	_, proxy := startHTTPTunnel(t, newMonitor(), up.URL+"/mcp", tunnel.HTTPOptions{})

	var early []int
	ctx := httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, _ textproto.MIMEHeader) error { early = append(early, code); return nil },
	})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, proxy.URL+"/mcp", strings.NewReader(toolCall))
	for k, v := range map[string]string{
		"Content-Type":    "application/json",
		"Authorization":   "Bearer upstream-secret",
		"Accept-Encoding": "gzip",
		"Connection":      "X-Hop",
		"X-Hop":           "1",
		"X-Forwarded-For": "10.0.0.1",
		"Te":              "trailers",
		"X-Custom":        "kept",
	} {
		req.Header.Set(k, v)
	}
	req.Header["User-Agent"] = nil // none sent
	res, err := newClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()

	for k, want := range map[string]string{
		"Authorization": "Bearer upstream-secret", "X-Custom": "kept", "Te": "trailers", "Content-Type": "application/json",
		"Accept-Encoding": "", "X-Hop": "", "X-Forwarded-For": "", "User-Agent": "",
	} {
		if v := got.Get(k); v != want {
			t.Errorf("upstream got %s = %q, want %q", k, v, want)
		}
	}
	if string(body) != toolAnswer || res.Header.Get("Mcp-Session-Id") != "s-9" || res.Header.Get("Keep-Alive") != "" {
		t.Errorf("client got %s %v", body, res.Header)
	}
	if res.Trailer.Get("X-Checksum") != "abc" {
		t.Errorf("trailer = %v, want X-Checksum", res.Trailer)
	}
	if len(early) != 1 || early[0] != http.StatusEarlyHints {
		t.Errorf("interim responses %v, want 103", early)
	}
}

func TestHTTPClientLeavingCancelsServerRequest(t *testing.T) {
	arrived, ended := make(chan struct{}), make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		close(arrived)
		<-r.Context().Done()
		close(ended)
	}))
	defer up.Close()
	m := newMonitor()
	_, proxy := startHTTPTunnel(t, m, up.URL+"/mcp", tunnel.HTTPOptions{})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-arrived
		cancel()
	}()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, proxy.URL+"/mcp", strings.NewReader(toolCall))
	if _, err := newClient(t).Do(req); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want the client's cancellation", err)
	}
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the server's request went on after the client left")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := m.Sample(t.Context()).Methods["tools/call"]
		if got.ErrorTypes[monitor.ErrorTypeCancelled] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tools/call = %+v, want one %s", got, monitor.ErrorTypeCancelled)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
