package loadgen

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// testServer records what its tools received and how many ran at once.
type testServer struct {
	mu       sync.Mutex
	received []map[string]any
	inFlight int
	maxIn    int
	// overlap is closed once two calls of "wait" ran at once.
	overlap     chan struct{}
	overlapOnce sync.Once
	// blocked receives when "block" starts; release ends every "block",
	// since over HTTP the client's cancellation need not reach the handler
	// and the test server waits for its handlers when it closes.
	blocked     chan struct{}
	release     chan struct{}
	releaseOnce sync.Once
}

func (ts *testServer) releaseAll() { ts.releaseOnce.Do(func() { close(ts.release) }) }

func newTestServer() *testServer {
	return &testServer{overlap: make(chan struct{}), blocked: make(chan struct{}, 16), release: make(chan struct{})}
}

func (ts *testServer) server() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "echo"}, func(_ context.Context, _ *mcp.CallToolRequest, in map[string]any) (*mcp.CallToolResult, any, error) {
		ts.mu.Lock()
		ts.received = append(ts.received, in)
		ts.mu.Unlock()
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "ok"}}}, nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "fail"}, func(context.Context, *mcp.CallToolRequest, map[string]any) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "no"}}}, nil, nil
	})
	// wait holds each call until another one runs beside it, or a bound
	// passes: a serial client makes it slow and the test fails on maxIn.
	mcp.AddTool(s, &mcp.Tool{Name: "wait"}, func(ctx context.Context, _ *mcp.CallToolRequest, _ map[string]any) (*mcp.CallToolResult, any, error) {
		ts.mu.Lock()
		ts.inFlight++
		ts.maxIn = max(ts.maxIn, ts.inFlight)
		if ts.inFlight > 1 {
			ts.overlapOnce.Do(func() { close(ts.overlap) })
		}
		ts.mu.Unlock()
		defer func() {
			ts.mu.Lock()
			ts.inFlight--
			ts.mu.Unlock()
		}()
		select {
		case <-ts.overlap:
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
		}
		return &mcp.CallToolResult{}, nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "block"}, func(ctx context.Context, _ *mcp.CallToolRequest, _ map[string]any) (*mcp.CallToolResult, any, error) {
		ts.blocked <- struct{}{}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-ts.release:
			return nil, nil, errors.New("released")
		}
	})
	return s
}

// inMemory serves one server session per client session.
func (ts *testServer) inMemory(t *testing.T) Target {
	srv := ts.server()
	return Target{Name: "memory", NewTransport: func() mcp.Transport {
		ct, st := mcp.NewInMemoryTransports()
		ss, err := srv.Connect(t.Context(), st, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ss.Close() })
		t.Cleanup(ts.releaseAll)
		return ct
	}}
}

func (ts *testServer) http(t *testing.T) Target {
	srv := ts.server()
	h := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil))
	t.Cleanup(h.Close)
	t.Cleanup(ts.releaseAll)
	return URLTarget(h.URL, h.Client())
}

func toolWorkload(t *testing.T, tool, args string) Workload {
	t.Helper()
	w, err := NewToolWorkload(tool, args)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestRunCountsAndErrors(t *testing.T) {
	for _, transport := range []string{"memory", "http"} {
		for _, tc := range []struct {
			tool       string
			concurrent int
			count      int64
			errors     map[string]int64
			top        []ErrorMessage
		}{
			{"echo", 1, 25, map[string]int64{}, []ErrorMessage{}},
			{"echo", 4, 50, map[string]int64{}, []ErrorMessage{}},
			{"fail", 3, 10, map[string]int64{ErrToolError: 10}, []ErrorMessage{{ErrToolError, "no", 10}}},
			{"no_such_tool", 2, 7, map[string]int64{"-32602": 7}, []ErrorMessage{{"-32602", `unknown tool "no_such_tool"`, 7}}},
		} {
			t.Run(transport+"/"+tc.tool+"/"+strconv.Itoa(tc.concurrent), func(t *testing.T) {
				ts := newTestServer()
				target := ts.inMemory(t)
				if transport == "http" {
					target = ts.http(t)
				}
				sum, err := Run(t.Context(), Options{
					Target: target, Workload: toolWorkload(t, tc.tool, `{}`),
					Concurrency: tc.concurrent, Count: tc.count, Warmup: 3,
				})
				if err != nil {
					t.Fatal(err)
				}
				if sum.Calls != tc.count {
					t.Errorf("calls = %d, want %d", sum.Calls, tc.count)
				}
				if len(sum.Errors) != len(tc.errors) {
					t.Errorf("errors = %v, want %v", sum.Errors, tc.errors)
				}
				for k, n := range tc.errors {
					if sum.Errors[k] != n {
						t.Errorf("errors = %v, want %v", sum.Errors, tc.errors)
					}
				}
				if !slices.Equal(sum.TopErrors, tc.top) {
					t.Errorf("top errors = %+v, want %+v", sum.TopErrors, tc.top)
				}
				if int64(sum.Answered) != tc.count || sum.LatencyMS.Max <= 0 || sum.LatencyMS.P50 > sum.LatencyMS.P99 {
					t.Errorf("latencies %+v over %d answered calls", sum.LatencyMS, sum.Answered)
				}
				if tc.tool == "echo" {
					// The warm-up calls reach the server but are not counted.
					if got := len(ts.received); got != int(tc.count)+3 {
						t.Errorf("server received %d calls, want %d", got, tc.count+3)
					}
				}
				if sum.Interrupted {
					t.Error("Interrupted set on a completed run")
				}
			})
		}
	}
}

func TestRunTemplate(t *testing.T) {
	ts := newTestServer()
	w := toolWorkload(t, "echo", `{"id":"item-{{n}}","who":"w{{worker}}","one":"{{word}}","three":"{{words:3}}","nested":{"list":["{{n}}",1]}, "plain":"x"}`)
	sum, err := Run(t.Context(), Options{Target: ts.inMemory(t), Workload: w, Count: 5})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Calls != 5 || len(ts.received) != 5 {
		t.Fatalf("calls = %d, received %d, want 5", sum.Calls, len(ts.received))
	}
	for i, in := range ts.received {
		n := strconv.Itoa(i + 1)
		if in["id"] != "item-"+n || in["who"] != "w0" || in["plain"] != "x" {
			t.Errorf("call %d received %v", i+1, in)
		}
		if one, _ := in["one"].(string); one == "" || strings.Contains(one, " ") || strings.Contains(one, "{{") {
			t.Errorf("{{word}} rendered as %q", one)
		}
		if three, _ := in["three"].(string); len(strings.Fields(three)) != 3 {
			t.Errorf("{{words:3}} rendered as %q", three)
		}
		list := in["nested"].(map[string]any)["list"].([]any)
		if list[0] != n || list[1] != float64(1) {
			t.Errorf("nested list rendered as %v", list)
		}
	}
}

func TestRunConcurrentOverHTTP(t *testing.T) {
	ts := newTestServer()
	sum, err := Run(t.Context(), Options{Target: ts.http(t), Workload: toolWorkload(t, "wait", ""), Concurrency: 4, Count: 8})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Calls != 8 || sum.ErrorCount != 0 {
		t.Fatalf("calls %d, errors %v", sum.Calls, sum.Errors)
	}
	if ts.maxIn < 2 {
		t.Errorf("at most %d calls in flight at once, want more than 1", ts.maxIn)
	}
}

// echoThenBlock calls echo `echoes` times, then a tool that never answers.
type echoThenBlock struct{ echoes int64 }

func (echoThenBlock) Name() string { return "echo-then-block" }
func (w echoThenBlock) Next(v Vars) Call {
	if v.N <= w.echoes {
		return Call{Tool: "echo", Args: map[string]any{}}
	}
	return Call{Tool: "block", Args: map[string]any{}}
}

func TestRunCancel(t *testing.T) {
	for _, transport := range []string{"memory", "http"} {
		t.Run(transport, func(t *testing.T) {
			ts := newTestServer()
			target := ts.inMemory(t)
			if transport == "http" {
				target = ts.http(t)
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			go func() {
				<-ts.blocked
				cancel()
			}()
			start := time.Now()
			sum, err := Run(ctx, Options{Target: target, Workload: echoThenBlock{echoes: 5}, Duration: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("Run took %v after cancellation", d)
			}
			if !sum.Interrupted || sum.Calls != 5 || sum.ErrorCount != 0 {
				t.Errorf("summary %+v, want 5 calls, no errors, interrupted", sum)
			}
		})
	}
}

func TestRunTimeout(t *testing.T) {
	ts := newTestServer()
	sum, err := Run(t.Context(), Options{Target: ts.inMemory(t), Workload: toolWorkload(t, "block", ""), Count: 2, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Calls != 2 || sum.Errors[ErrTimeout] != 2 || sum.Answered != 0 {
		t.Errorf("summary %+v, want 2 timeouts", sum)
	}
}

func TestRunConnectError(t *testing.T) {
	h := httptest.NewServer(http.NotFoundHandler())
	h.Close()
	_, err := Run(t.Context(), Options{Target: URLTarget(h.URL, nil), Workload: toolWorkload(t, "echo", ""), Count: 1})
	var ce *ConnectError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a ConnectError", err)
	}
}

func TestRunOptions(t *testing.T) {
	ts := newTestServer()
	w := toolWorkload(t, "echo", "")
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"no target", Options{Workload: w, Count: 1}},
		{"no workload", Options{Target: ts.inMemory(t), Count: 1}},
		{"count and duration", Options{Target: ts.inMemory(t), Workload: w, Count: 1, Duration: time.Second}},
		{"negative concurrency", Options{Target: ts.inMemory(t), Workload: w, Count: 1, Concurrency: -1}},
		{"negative warmup", Options{Target: ts.inMemory(t), Workload: w, Count: 1, Warmup: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Run(t.Context(), tc.o); !errors.Is(err, ErrOptions) {
				t.Errorf("err = %v, want ErrOptions", err)
			}
		})
	}
}

func TestRunProgress(t *testing.T) {
	ts := newTestServer()
	var mu sync.Mutex
	var snaps []Snapshot
	// The "wait" calls last up to 200ms each, serially, so a 10ms tick
	// fires during the run.
	sum, err := Run(t.Context(), Options{
		Target: ts.inMemory(t), Workload: toolWorkload(t, "wait", ""), Count: 3,
		ProgressEvery: 10 * time.Millisecond,
		Progress:      func(s Snapshot) { mu.Lock(); snaps = append(snaps, s); mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(snaps) == 0 {
		t.Fatal("no progress reported")
	}
	last := snaps[len(snaps)-1]
	if last.Calls > sum.Calls || last.Elapsed <= 0 {
		t.Errorf("last snapshot %+v, summary calls %d", last, sum.Calls)
	}
}

// dieAfter calls echo, and at call n the server's session closes.
type dieAfter struct{ n int64 }

func (dieAfter) Name() string { return "die-after" }
func (w dieAfter) Next(v Vars) Call {
	if v.N == w.n {
		return Call{Tool: "die", Args: map[string]any{}}
	}
	return Call{Tool: "echo", Args: map[string]any{}}
}

// A session whose connection closes mid-run stops its worker: the run
// ends with what it measured and says why, instead of failing fast until
// its duration is over.
func TestRunStopsWhenTheConnectionCloses(t *testing.T) {
	ts := newTestServer()
	srv := ts.server()
	mcp.AddTool(srv, &mcp.Tool{Name: "die"}, func(_ context.Context, req *mcp.CallToolRequest, _ map[string]any) (*mcp.CallToolResult, any, error) {
		go req.Session.Close()
		return &mcp.CallToolResult{}, nil, nil
	})
	target := Target{Name: "memory", NewTransport: func() mcp.Transport {
		ct, st := mcp.NewInMemoryTransports()
		if _, err := srv.Connect(t.Context(), st, nil); err != nil {
			t.Fatal(err)
		}
		return ct
	}}
	start := time.Now()
	sum, err := Run(t.Context(), Options{Target: target, Workload: dieAfter{n: 6}, Duration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Run took %v after the connection closed", d)
	}
	// Five calls answered, then the one that closes the connection: the
	// close runs on its own goroutine, so that call's answer, and those of
	// calls made before the close lands, may or may not arrive. Then a call
	// or two fail until one finds the connection closed and the worker
	// stops.
	tr, answered := sum.Errors[ErrTransport], int64(sum.Answered)
	if sum.ConnectionLost == "" || answered < 5 || tr < 1 || tr > 3 || sum.Calls != answered+tr || sum.Interrupted {
		t.Errorf("summary %+v; want 5 or more answered calls, then at most 3 transport errors and the connection lost", sum)
	}
}

// Error messages are counted by kind and message, most frequent first, on
// one line, cut to a bound; past a number of distinct messages, the rest
// count together, so that a message with an id in it cannot grow the
// summary with the calls.
func TestStatsErrorMessages(t *testing.T) {
	st := newStats()
	for range 3 {
		st.record(time.Millisecond, failure{ErrToolError, "invalid query:\n\tcontains   a NUL byte"})
	}
	st.record(time.Millisecond, failure{"-32602", `unknown tool "x"`})
	long := strings.Repeat("é", MaxMessageBytes) // 2 bytes a character
	st.record(time.Millisecond, failure{ErrToolError, long})
	st.record(time.Millisecond, failure{ErrToolError, long})
	for i := range 2 * maxMessages {
		st.record(time.Millisecond, failure{ErrTransport, "connection " + strconv.Itoa(i) + " reset"})
	}
	sum := st.summary(Options{Workload: toolWorkload(t, "x", "")}, time.Second, false)

	cut := strings.Repeat("é", (MaxMessageBytes-len("…"))/2) + "…"
	want := []ErrorMessage{
		{ErrTransport, otherMessages, int64(2*maxMessages - (maxMessages - 3))},
		{ErrToolError, "invalid query: contains a NUL byte", 3},
		{ErrToolError, cut, 2},
		{"-32602", `unknown tool "x"`, 1},
		{ErrTransport, "connection 0 reset", 1},
	}
	if !slices.Equal(sum.TopErrors, want) {
		t.Errorf("top errors:\n%+v\nwant\n%+v", sum.TopErrors, want)
	}
	if len(st.messages) != maxMessages+1 {
		t.Errorf("%d distinct messages kept, want %d and the rest together", len(st.messages), maxMessages)
	}
	if sum.ErrorCount != int64(6+2*maxMessages) {
		t.Errorf("error count %d", sum.ErrorCount)
	}
}

// A server behind a token is reached with the header WithHeader adds to
// every request; without it, the run cannot connect.
func TestRunWithHeader(t *testing.T) {
	ts := newTestServer()
	srv := ts.server()
	mcpHandler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil)
	// The SDK refuses a host that is not loopback on a loopback listener,
	// so the host sent is localhost rather than the URL's 127.0.0.1.
	var host string
	h := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" || r.Host != host {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		mcpHandler.ServeHTTP(w, r)
	}))
	t.Cleanup(h.Close)
	header := http.Header{}
	header.Set("Authorization", "Bearer s3cret")
	host = "localhost:" + strconv.Itoa(h.Listener.Addr().(*net.TCPAddr).Port)
	header.Set("Host", host)
	sum, err := Run(t.Context(), Options{Target: URLTarget(h.URL, WithHeader(h.Client(), header)), Workload: toolWorkload(t, "echo", ""), Count: 3, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Calls != 3 || sum.ErrorCount != 0 {
		t.Errorf("summary %+v, want 3 calls without errors", sum)
	}
	_, err = Run(t.Context(), Options{Target: URLTarget(h.URL, h.Client()), Workload: toolWorkload(t, "echo", ""), Count: 1})
	var ce *ConnectError
	if !errors.As(err, &ce) {
		t.Errorf("without the header: %v, want a ConnectError", err)
	}
}
