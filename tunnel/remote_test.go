package tunnel_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
)

// TestRemoteGoClient: a client on stdio uses a Streamable HTTP server
// through a Remote as it would over HTTP: tools, the server's requests to
// the client on the call's stream, its notifications outside any request
// on the GET stream, the session ended when the client leaves; calls
// measured by the tunnel.
func TestRemoteGoClient(t *testing.T) {
	server := mcp.NewServer(&mcp.Implementation{Name: "remote-upstream", Version: "1.0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "echo"}, func(_ context.Context, _ *mcp.CallToolRequest, in struct {
		Text string `json:"text"`
	}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Text}}}, nil, nil
	})
	mcp.AddTool(server, &mcp.Tool{Name: "roots"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		res, err := req.Session.ListRoots(ctx, nil)
		if err != nil {
			return nil, nil, err
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: res.Roots[0].URI}}}, nil, nil
	})
	var (
		mu            sync.Mutex
		deletes, gets int
	)
	handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		switch r.Method {
		case http.MethodDelete:
			deletes++
		case http.MethodGet:
			gets++
		}
		mu.Unlock()
		handler.ServeHTTP(w, r)
	}))
	defer up.Close()

	m := newMonitor()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	var logs testenv.Buffer
	rem, err := tunnel.NewRemote(m, up.URL+"/mcp", tunnel.RemoteOptions{Stdin: inR, Stdout: outW,
		HTTP: tunnel.HTTPOptions{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- rem.Run(context.Background())
		outW.Close()
	}()
	defer func() {
		if t.Failed() {
			t.Logf("remote log:\n%s", logs.String())
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	changed := make(chan struct{}, 1)
	c := mcp.NewClient(&mcp.Implementation{Name: "stdio-client", Version: "1"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
			select {
			case changed <- struct{}{}:
			default:
			}
		},
	})
	c.AddRoots(&mcp.Root{URI: "file:///work"})
	cs, err := c.Connect(ctx, &mcp.IOTransport{Reader: outR, Writer: inW}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := cs.InitializeResult().ServerInfo.Name; got != "remote-upstream" {
		t.Errorf("server %q", got)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "over stdio"}})
	if err != nil || textOf(t, res) != "over stdio" {
		t.Fatalf("echo: %v %v", res, err)
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "roots", Arguments: map[string]any{}})
	if err != nil || textOf(t, res) != "file:///work" {
		t.Fatalf("roots: %v %v", res, err)
	}
	// A tool added later: the server says so on the session's GET stream.
	waitFor(t, "the GET stream", func() bool { mu.Lock(); defer mu.Unlock(); return gets > 0 })
	// The GET has arrived; the server takes it as the session's stream a
	// moment later, and drops what it sends before: a tool is added
	// until one change is seen.
	for i := 0; ; i++ {
		mcp.AddTool(server, &mcp.Tool{Name: "late" + strconv.Itoa(i)}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{}, nil, nil
		})
		select {
		case <-changed:
		case <-time.After(500 * time.Millisecond):
			if i < 20 {
				continue
			}
			t.Fatal("the server's list_changed never reached the stdio client")
		}
		break
	}
	var calls int
	for _, call := range m.RecentCalls(0, 100) {
		if call.Method == "tools/call" {
			calls++
			if call.Transport != monitor.TransportHTTP || call.Session == "" || call.Client.Name != "stdio-client" {
				t.Errorf("call %+v", call)
			}
		}
	}
	if calls != 2 {
		t.Errorf("%d tools/calls recorded, want 2", calls)
	}
	if err := cs.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("Run did not end with the client's input")
	}
	mu.Lock()
	defer mu.Unlock()
	if deletes != 1 {
		t.Errorf("%d DELETEs, want the session ended once", deletes)
	}
}

// TestRemoteUnreachable: requests to a server that is down are answered
// with errors, each once, and the relay goes on.
func TestRemoteUnreachable(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	rem, err := tunnel.NewRemote(newMonitor(), "http://"+testenv.Addr(testenv.FreePort(t))+"/mcp",
		tunnel.RemoteOptions{Stdin: inR, Stdout: outW, HTTP: tunnel.HTTPOptions{Logger: slog.New(slog.DiscardHandler)}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- rem.Run(context.Background()); outW.Close() }()
	go func() {
		_, _ = io.WriteString(inW, initLine+"\n"+`{"jsonrpc":"2.0","id":2,"method":"ping"}`+"\n")
		inW.Close()
	}()
	out, err := io.ReadAll(outR)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 || !strings.Contains(string(out), `"id":1,"error"`) || !strings.Contains(string(out), `"id":2,"error"`) {
		t.Errorf("answers %q, want an error for each request", out)
	}
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// remoteRig runs a Remote against url with the test as its stdio client.
type remoteRig struct {
	in    *io.PipeWriter
	lines chan string
	done  chan error
}

func startRemote(t *testing.T, url string) *remoteRig {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	rem, err := tunnel.NewRemote(newMonitor(), url, tunnel.RemoteOptions{Stdin: inR, Stdout: outW,
		HTTP: tunnel.HTTPOptions{MaxBodySize: 2048, Logger: slog.New(slog.DiscardHandler)}})
	if err != nil {
		t.Fatal(err)
	}
	r := &remoteRig{in: inW, lines: make(chan string, 100), done: make(chan error, 1)}
	go func() { r.done <- rem.Run(context.Background()); outW.Close() }()
	go func() {
		defer close(r.lines)
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			r.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		inW.Close()
		for range r.lines {
		}
		<-r.done
	})
	return r
}

func (r *remoteRig) send(line string) { _, _ = io.WriteString(r.in, line+"\n") }

// answer waits for the line that answers id, and fails on a second one.
func (r *remoteRig) answer(t *testing.T, id string) string {
	t.Helper()
	for {
		select {
		case l, ok := <-r.lines:
			if !ok {
				t.Fatalf("output ended before the answer to %s", id)
			}
			if strings.Contains(l, `"id":`+id) {
				return l
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no answer to %s", id)
		}
	}
}

// TestRemoteAnswersEveryRequest: whatever the server (or what stands
// before it) does, each request gets one answer, with its id: the
// server's, or an error saying what went wrong.
func TestRemoteAnswersEveryRequest(t *testing.T) {
	const call = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x"}}`
	for _, c := range []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"a web page", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, "<html>log in</html>")
		}, "instead of JSON"},
		{"a stream that ends", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":1,\"progress\":1}}\n\n")
		}, "ended without the answer"},
		{"an event too large", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, `event: message`+"\n"+`data: {"jsonrpc":"2.0","id":7,"result":{"big":"`+strings.Repeat("a", 3000)+`"}}`+"\n\n")
		}, "ended without the answer"},
		{"a body cut short", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "200")
			_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":7,"res`)
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // the connection drops mid-body
		}, "broken off"},
		{"early hints first", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Link", "</x>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":7,"result":{"content":[]}}`)
		}, `"result"`},
		{"a plain error", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "no such endpoint", http.StatusNotFound)
		}, "no such endpoint"},
	} {
		t.Run(c.name, func(t *testing.T) {
			up := httptest.NewServer(c.handler)
			defer up.Close()
			r := startRemote(t, up.URL+"/mcp")
			r.send(call)
			if got := r.answer(t, "7"); !strings.Contains(got, c.want) {
				t.Errorf("answer %s, want %q in it", got, c.want)
			}
			r.in.Close()
			for l := range r.lines {
				if strings.Contains(l, `"id":7`) {
					t.Errorf("a second answer: %s", l)
				}
			}
		})
	}
}

// TestRemoteNewSession: a server that forgot the session (404) gets the
// client's next initialize without the old session's id, and the new
// session goes on.
func TestRemoteNewSession(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []string
		n    int
	)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		sid := r.Header.Get("Mcp-Session-Id")
		seen = append(seen, r.Method+" "+sid)
		switch {
		case r.Method != http.MethodPost:
			w.WriteHeader(http.StatusMethodNotAllowed)
		case strings.Contains(string(body), `"initialize"`):
			n++
			w.Header().Set("Mcp-Session-Id", "s"+strconv.Itoa(n))
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"x","version":"1"}}}`)
		case sid != "s"+strconv.Itoa(n) || n == 1:
			http.Error(w, "session not found", http.StatusNotFound) // the server restarted
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":3,"result":{}}`)
		}
	}))
	defer up.Close()
	r := startRemote(t, up.URL+"/mcp")
	r.send(initLine)
	r.answer(t, "1")
	r.send(`{"jsonrpc":"2.0","id":2,"method":"ping"}`)
	if got := r.answer(t, "2"); !strings.Contains(got, "session not found") {
		t.Errorf("ping in a session the server forgot: %s", got)
	}
	r.send(initLine)
	r.answer(t, "1")
	r.send(`{"jsonrpc":"2.0","id":3,"method":"ping"}`)
	if got := r.answer(t, "3"); !strings.Contains(got, `"result"`) {
		t.Errorf("ping in the new session: %s", got)
	}
	mu.Lock()
	defer mu.Unlock()
	fresh := 0
	for _, r := range seen {
		if r == "POST " {
			fresh++
		}
	}
	if fresh != 2 {
		t.Errorf("requests %v: want both initializes without a session id", seen)
	}
}

// TestRemoteClientNotReading: a client that stops reading its output
// holds nothing up: once its input ends, the proxy exits all the same.
func TestRemoteClientNotReading(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"pad":"`+strings.Repeat("x", 1000)+`"}}`)
	}))
	defer up.Close()
	inR, inW := io.Pipe()
	_, outW := io.Pipe() // never read
	rem, err := tunnel.NewRemote(newMonitor(), up.URL+"/mcp", tunnel.RemoteOptions{Stdin: inR, Stdout: outW,
		HTTP: tunnel.HTTPOptions{Logger: slog.New(slog.DiscardHandler)}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { done <- rem.Run(ctx) }()
	for range 200 {
		_, _ = io.WriteString(inW, `{"jsonrpc":"2.0","id":1,"method":"ping"}`+"\n")
	}
	cancel() // as SIGTERM does
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not end with a client that does not read")
	}
	inW.Close()
	outW.Close() // ends the writer stuck on it
}
