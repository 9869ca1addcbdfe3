package mcpserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/mcpserver"
	"github.com/mcp-pba-tunnel/pbatunnel/memory"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

const (
	initLine = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}`
	// initOld negotiates a protocol version that still had batches.
	initOld     = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}`
	initialized = `{"jsonrpc":"2.0","method":"notifications/initialized"}`
)

// answer is one line the server wrote.
type answer struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int64  `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Method string `json:"method"`
	line   string
}

func (a answer) String() string { return a.line }

// serveLines serves srv on the given input lines, which end with end of
// input, and returns every line written, parsed.
func serveLines(t *testing.T, srv *mcp.Server, opts *mcpserver.StdioOptions, input string) ([]answer, mcpserver.StdioSummary) {
	t.Helper()
	var out bytes.Buffer
	o := mcpserver.StdioOptions{}
	if opts != nil {
		o = *opts
	}
	o.In, o.Out = strings.NewReader(input), &out
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sum, err := mcpserver.ServeStdio(ctx, srv, &o)
	if err != nil && ctx.Err() != nil {
		t.Fatalf("ServeStdio did not end: %v", err)
	}
	return parseAnswers(t, out.String()), sum
}

// parseAnswers parses output lines, single messages or batches.
func parseAnswers(t testing.TB, out string) []answer {
	t.Helper()
	var got []answer
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var msgs []json.RawMessage
		if strings.HasPrefix(line, "[") {
			if err := json.Unmarshal([]byte(line), &msgs); err != nil {
				t.Fatalf("output line is not JSON: %q", line)
			}
		} else {
			msgs = []json.RawMessage{json.RawMessage(line)}
		}
		for _, raw := range msgs {
			a := answer{line: string(raw)}
			if err := json.Unmarshal(raw, &a); err != nil {
				t.Fatalf("output line is not JSON: %q", line)
			}
			got = append(got, a)
		}
	}
	return got
}

// byID indexes the responses by id and fails on an id answered twice.
func byID(t *testing.T, got []answer) map[string]answer {
	t.Helper()
	m := map[string]answer{}
	for _, a := range got {
		if a.Method != "" || a.ID == nil || string(a.ID) == "null" {
			continue
		}
		if _, dup := m[string(a.ID)]; dup {
			t.Errorf("id %s answered twice", a.ID)
		}
		m[string(a.ID)] = a
	}
	return m
}

func newStoreServer(t *testing.T) (*mcp.Server, memory.Store) {
	t.Helper()
	m := monitor.New(monitor.Options{DisableSystem: true})
	store, err := memory.Open(context.Background(), memory.Options{Path: filepath.Join(t.TempDir(), "memory.db"), Monitor: m})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return mcpserver.New(mcpserver.Options{Monitor: m, Memory: store}), store
}

// TestStdioAnswersWhatWasReadBeforeEndOfInput pipes requests and closes
// input at once, as `printf ... | pbatunnel serve --stdio` does: every
// request is answered and every write is kept.
func TestStdioAnswersWhatWasReadBeforeEndOfInput(t *testing.T) {
	srv, store := newStoreServer(t)
	input := strings.Join([]string{
		initLine,
		initialized,
		`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"create_entities","arguments":{"entities":[{"name":"Ada","entityType":"person","observations":["wrote the first program"]}]}}}`,
	}, "\n") + "\n"
	got, sum := serveLines(t, srv, nil, input)
	ids := byID(t, got)
	for _, id := range []string{"1", "2", "3"} {
		a, ok := ids[id]
		if !ok {
			t.Errorf("request %s was not answered; got %d lines", id, len(got))
			continue
		}
		if a.Error != nil {
			t.Errorf("request %s: error %+v", id, a.Error)
		}
	}
	if !sum.ClientClosed || sum.Requests != 3 || sum.Unanswered != 0 || sum.Invalid != 0 {
		t.Errorf("summary = %+v", sum)
	}
	if r := sum.Reason(); !strings.Contains(r, "closed stdin") || !strings.Contains(r, "3 requests, all answered") {
		t.Errorf("reason = %q", r)
	}
	var buf bytes.Buffer
	if _, _, err := store.ExportGraph(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "Ada") {
		t.Errorf("the entity created just before end of input is not in the store: %q", buf.String())
	}
}

// TestStdioAnswersBadLinesAndGoesOn sends each kind of bad line before
// and after initialization, each followed by a ping: the bad line gets the
// specification's error, and the ping its answer.
func TestStdioAnswersBadLinesAndGoesOn(t *testing.T) {
	tests := []struct {
		name      string
		line      string
		code      int64
		id        string // the error's id; "null" when it cannot be known
		afterOld  bool   // sent after negotiating 2025-03-26 instead
		onlyAfter bool   // an error only once initialized
	}{
		{name: "not JSON", line: `hello`, code: -32700, id: "null"},
		{name: "cut short", line: `{"jsonrpc":"2.0","id":5,"method":"ping"`, code: -32700, id: "null"},
		{name: "empty object", line: `{}`, code: -32600, id: "null"},
		{name: "number", line: `42`, code: -32600, id: "null"},
		{name: "wrong version", line: `{"jsonrpc":"1.0","id":7,"method":"ping"}`, code: -32600, id: "7"},
		{name: "bad id type", line: `{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}`, code: -32600, id: "null"},
		{name: "empty batch", line: `[]`, code: -32600, id: "null"},
		{name: "batch in 2025-06-18", line: `[{"jsonrpc":"2.0","id":8,"method":"ping"}]`, code: -32600, id: "null", onlyAfter: true},
		{name: "bad batch element", line: `[{"jsonrpc":"2.0","id":8,"method":"ping"},3]`, code: -32600, id: "null", afterOld: true},
		{name: "fractional id", line: `{"jsonrpc":"2.0","id":3.5,"method":"ping"}`, code: -32600, id: "null"},
		{name: "huge id", line: `{"jsonrpc":"2.0","id":1e300,"method":"ping"}`, code: -32600, id: "null"},
		{name: "batch with a notification", line: `[{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}},{"jsonrpc":"2.0","id":8,"method":"ping"}]`, code: -32600, id: "null", afterOld: true},
		{name: "batch with a repeated id", line: `[{"jsonrpc":"2.0","id":8,"method":"ping"},{"jsonrpc":"2.0","id":8,"method":"ping"}]`, code: -32600, id: "null", afterOld: true},
		{name: "too long", line: `{"jsonrpc":"2.0","id":9,"method":"ping","params":{"pad":"` + strings.Repeat("x", 2048) + `"}}`, code: -32600, id: "null"},
	}
	for _, tt := range tests {
		for _, before := range []bool{true, false} {
			if before && tt.onlyAfter {
				continue
			}
			name := tt.name + "/after initialize"
			if before {
				name = tt.name + "/before initialize"
			}
			t.Run(name, func(t *testing.T) {
				srv := mcpserver.New(mcpserver.Options{Monitor: monitor.New(monitor.Options{DisableSystem: true})})
				init := initLine
				if tt.afterOld {
					init = initOld
				}
				lines := []string{init, initialized, tt.line, `{"jsonrpc":"2.0","id":100,"method":"ping"}`}
				if before {
					lines = []string{tt.line, init, initialized, `{"jsonrpc":"2.0","id":100,"method":"ping"}`}
				}
				got, sum := serveLines(t, srv, &mcpserver.StdioOptions{MaxLineSize: 1024}, strings.Join(lines, "\n")+"\n")
				var errs []answer
				for _, a := range got {
					if a.Error != nil && (string(a.ID) == tt.id) {
						errs = append(errs, a)
					}
				}
				if len(errs) != 1 || errs[0].Error.Code != tt.code {
					t.Fatalf("want one error %d with id %s; got %v", tt.code, tt.id, got)
				}
				ids := byID(t, got)
				if a, ok := ids["100"]; !ok || a.Error != nil {
					t.Errorf("the ping after the bad line: %v (all: %v)", a, got)
				}
				if _, ok := ids["1"]; !ok {
					t.Errorf("initialize was not answered")
				}
				if sum.Invalid != 1 || sum.Unanswered != 0 {
					t.Errorf("summary = %+v", sum)
				}
			})
		}
	}
}

// TestStdioBatchesWhereTheProtocolHasThem checks that the framing passes
// batches on to the SDK when the negotiated version allows them.
func TestStdioBatchesWhereTheProtocolHasThem(t *testing.T) {
	srv := mcpserver.New(mcpserver.Options{Monitor: monitor.New(monitor.Options{DisableSystem: true})})
	got, sum := serveLines(t, srv, nil, strings.Join([]string{initOld, initialized,
		`[{"jsonrpc":"2.0","id":2,"method":"ping"},{"jsonrpc":"2.0","id":3,"method":"ping"}]`}, "\n")+"\n")
	if sum.Requests != 3 || sum.Unanswered != 0 || sum.Invalid != 0 {
		t.Errorf("summary = %+v; output %v", sum, got)
	}
}

// blockingServer has a tool that waits for its context to end, and one
// that lingers half a second whatever happens.
func blockingServer() *mcp.Server {
	srv := mcp.NewServer(&mcp.Implementation{Name: "blocking", Version: "1"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "wait"}, func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		<-ctx.Done()
		return nil, nil, ctx.Err()
	})
	mcp.AddTool(srv, &mcp.Tool{Name: "linger"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		time.Sleep(500 * time.Millisecond)
		return &mcp.CallToolResult{}, nil, nil
	})
	return srv
}

// TestStdioCancelledRequestIsNotAwaitedNorAnswered cancels a running
// call and then closes input: the session ends without waiting for the
// call, and the call gets no answer.
func TestStdioCancelledRequestIsNotAwaitedNorAnswered(t *testing.T) {
	got, sum := serveLines(t, blockingServer(), &mcpserver.StdioOptions{DrainTimeout: time.Minute}, strings.Join([]string{
		initLine, initialized,
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"wait","arguments":{}}}`,
		`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2,"reason":"user"}}`,
		`{"jsonrpc":"2.0","id":3,"method":"ping"}`,
	}, "\n")+"\n")
	ids := byID(t, got)
	if a, ok := ids["2"]; ok {
		t.Errorf("the cancelled call was answered: %+v", a)
	}
	if _, ok := ids["3"]; !ok {
		t.Errorf("the ping after the cancel was not answered")
	}
	if sum.DrainTimedOut || sum.Unanswered != 0 {
		t.Errorf("summary = %+v", sum)
	}
}

// TestStdioDrainTimeout closes input while a call runs until it is
// cancelled: the session ends after the drain timeout and says so.
func TestStdioDrainTimeout(t *testing.T) {
	_, sum := serveLines(t, blockingServer(), &mcpserver.StdioOptions{DrainTimeout: 50 * time.Millisecond}, strings.Join([]string{
		initLine, initialized,
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"wait","arguments":{}}}`,
	}, "\n")+"\n")
	if !sum.DrainTimedOut || sum.Unanswered != 1 {
		t.Errorf("summary = %+v", sum)
	}
	if r := sum.Reason(); !strings.Contains(r, "1 still running at the drain timeout") {
		t.Errorf("reason = %q", r)
	}
}

// FuzzStdioFraming feeds arbitrary lines around a valid session: the
// server must end, write only JSON lines, and answer no id twice.
func FuzzStdioFraming(f *testing.F) {
	for _, seed := range []string{
		`hello`, `{}`, `[]`, `[1,2]`, `{"jsonrpc":"2.0","id":2,"method":"ping"}`,
		`{"jsonrpc":"2.0","id":2,"method":"ping"}` + "\n" + `{"jsonrpc":"2.0","id":2,"method":"ping"}`,
		`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}`,
		`{"jsonrpc":"2.0","id":"x","result":{}}`, "\x00\xff", `{"jsonrpc":"2.0","id":1e400,"method":"ping"}`,
		`[{"jsonrpc":"2.0","id":5,"method":"ping"},{"jsonrpc":"2.0","id":5,"method":"ping"}]`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, middle string) {
		srv := mcp.NewServer(&mcp.Implementation{Name: "fuzz", Version: "1"}, nil)
		var out bytes.Buffer
		input := initOld + "\n" + initialized + "\n" + middle + "\n" + `{"jsonrpc":"2.0","id":"last","method":"ping"}` + "\n"
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := mcpserver.ServeStdio(ctx, srv, &mcpserver.StdioOptions{
			In: strings.NewReader(input), Out: &out, MaxLineSize: 4096, DrainTimeout: 5 * time.Second,
		})
		if ctx.Err() != nil {
			t.Fatalf("ServeStdio did not end: %v", err)
		}
		seen := map[string]int{}
		for _, a := range parseAnswers(t, out.String()) {
			if a.Method == "" && a.ID != nil && string(a.ID) != "null" {
				seen[string(a.ID)]++
			}
		}
		// The SDK answers a duplicate id in flight with a null id, so a
		// count above one is an answer given twice.
		for id, n := range seen {
			if n > 1 && !duplicatedInInput(input, id) {
				t.Errorf("id %s answered %d times", id, n)
			}
		}
		if seen[`"last"`] != 1 {
			t.Errorf("the ping after the fuzzed line was answered %d times; output:\n%s", seen[`"last"`], out.String())
		}
	})
}

// answeredOK reports whether got holds exactly one answer with id, a
// result.
func answeredOK(got []answer, id string) bool {
	n, ok := 0, false
	for _, a := range got {
		if string(a.ID) == id {
			n++
			ok = a.Error == nil
		}
	}
	return n == 1 && ok
}

// duplicatedInInput reports whether the input sends id in more than one
// request, which a peer may do once the first is answered.
func duplicatedInInput(input, id string) bool {
	return strings.Count(input, fmt.Sprintf(`"id":%s`, id)) > 1
}

// TestStdioRefusesWhatTheSDKWouldMishandle covers lines the SDK, left to
// itself, would answer under the wrong id, not at all, or by ending the
// session.
func TestStdioRefusesWhatTheSDKWouldMishandle(t *testing.T) {
	ping := `{"jsonrpc":"2.0","id":100,"method":"ping"}`
	tests := []struct {
		name    string
		lines   []string
		refused int // answers with -32600, the framing's and the SDK's
		invalid int // lines the framing refused, answered or not
		// freedOK: the cancelled request may also have been answered
		// before the repeat was read (the SDK answers at once a request
		// cancelled before its handler started, as under load), which
		// frees its id: then the repeat is served, not refused.
		freedOK bool
	}{
		{name: "an id still in flight", lines: []string{
			`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"wait","arguments":{}}}`,
			`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"wait","arguments":{}}}`,
			`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}}`,
		}, refused: 1, invalid: 1},
		{name: "the id of a cancelled request still running", lines: []string{
			`{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"linger","arguments":{}}}`,
			`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":8}}`,
			`{"jsonrpc":"2.0","id":8,"method":"ping"}`,
		}, refused: 1, invalid: 1, freedOK: true},
		{name: "a second initialize asking for a version with batches", lines: []string{
			strings.Replace(initOld, `"id":1`, `"id":11`, 1), // refused by the SDK: -32600
			`[{"jsonrpc":"2.0","id":2,"method":"ping"}]`,
		}, refused: 2, invalid: 1},
		{name: "a response the SDK cannot read", lines: []string{
			`{"jsonrpc":"2.0","id":4,"error":{"code":"x","message":"y"}}`,
		}, invalid: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := append(append([]string{initLine, initialized}, tt.lines...), ping)
			got, sum := serveLines(t, blockingServer(), &mcpserver.StdioOptions{DrainTimeout: time.Minute}, strings.Join(lines, "\n")+"\n")
			refused := 0
			for _, a := range got {
				if a.Error != nil && a.Error.Code == -32600 {
					refused++
				}
			}
			freed := tt.freedOK && refused == 0 && sum.Invalid == 0 && answeredOK(got, "8")
			if !freed && (refused != tt.refused || sum.Invalid != tt.invalid) {
				t.Errorf("%d refusals, summary %+v; want %d refusals, %d invalid: %v", refused, sum, tt.refused, tt.invalid, got)
			}
			if a, ok := byID(t, got)["100"]; !ok || a.Error != nil {
				t.Errorf("the session did not go on to the last ping: %v", got)
			}
			if sum.DrainTimedOut || sum.Unanswered != 0 {
				t.Errorf("summary = %+v", sum)
			}
		})
	}
}

// TestStdioProtocolKeyIsExact sends an initialize whose params hold the
// version twice, in two spellings: the framing reads the one the SDK reads.
func TestStdioProtocolKeyIsExact(t *testing.T) {
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","ProtocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}`
	got, _ := serveLines(t, blockingServer(), nil, strings.Join([]string{init, initialized,
		`[{"jsonrpc":"2.0","id":2,"method":"ping"}]`, `{"jsonrpc":"2.0","id":3,"method":"ping"}`}, "\n")+"\n")
	if a, ok := byID(t, got)["3"]; !ok || a.Error != nil {
		t.Errorf("the session did not go on past the batch: %v", got)
	}
}
