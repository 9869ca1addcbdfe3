package replay_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/record"
	"github.com/mcp-pba-tunnel/pbatunnel/replay"
)

// writeRecording writes lines as "proxy --record" does.
func writeRecording(t *testing.T, lines []record.Line) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rec.jsonl")
	var b strings.Builder
	for _, l := range lines {
		j, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(append(j, '\n'))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func line(dir, session, msg string) record.Line {
	return record.Line{Time: time.Now(), Dir: dir, Session: session, Message: json.RawMessage(msg)}
}

func TestReplay(t *testing.T) {
	path := writeRecording(t, []record.Line{
		line(record.ToServer, "A", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`),
		line(record.ToClient, "A", `{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"s","version":"1"}}}`),
		line(record.ToServer, "A", `{"jsonrpc":"2.0","method":"notifications/initialized"}`),
		// Two sessions use the same id at once: answers pair by session.
		line(record.ToServer, "A", `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"count","arguments":{}}}`),
		line(record.ToServer, "B", `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"login","arguments":{"user":"al","password":"[redacted]"},"_meta":{"traceparent":"x"}}}`),
		line(record.ToClient, "B", `{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"welcome"}]}}`),
		line(record.ToClient, "A", `{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"1"}]}}`),
		line(record.ToServer, "A", `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"count","arguments":{}}}`),
		line(record.ToClient, "A", `{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"2"}]}}`),
		line(record.ToServer, "A", `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"fail","arguments":{"n":1.0}}}`),
		line(record.ToClient, "A", `{"jsonrpc":"2.0","id":4,"error":{"code":-32602,"message":"bad n"}}`),
		line(record.ToServer, "A", `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"lost","arguments":{}}}`), // never answered
		{Time: time.Now(), Dir: record.ToClient, Omitted: "not JSON", Bytes: 12},
	})
	rec, err := replay.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Exchanges) != 5 {
		t.Fatalf("%d exchanges, want 5 (the unanswered one left out): %+v", len(rec.Exchanges), rec.Exchanges)
	}
	s := replay.NewServer(rec)
	for _, tt := range []struct{ ask, want string }{
		{`{"jsonrpc":"2.0","id":"x","method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`,
			`{"jsonrpc":"2.0","id":"x","result":{"capabilities":{"tools":{}},"protocolVersion":"2025-06-18","serverInfo":{"name":"s","version":"1"}}}`},
		{`{"jsonrpc":"2.0","method":"notifications/initialized"}`, ``},
		// The same call twice: the answers in the order they came.
		{`{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"arguments":{},"name":"count","_meta":{"progressToken":7}}}`,
			`{"jsonrpc":"2.0","id":10,"result":{"content":[{"text":"1","type":"text"}]}}`},
		{`{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"count","arguments":{}}}`,
			`{"jsonrpc":"2.0","id":11,"result":{"content":[{"text":"2","type":"text"}]}}`},
		{`{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"count","arguments":{}}}`, // used up: the last again
			`{"jsonrpc":"2.0","id":12,"result":{"content":[{"text":"2","type":"text"}]}}`},
		// A redacted value matches any; the number 1 is the recorded 1.0.
		{`{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"login","arguments":{"user":"al","password":"hunter2"}}}`,
			`{"jsonrpc":"2.0","id":13,"result":{"content":[{"text":"welcome","type":"text"}]}}`},
		{`{"jsonrpc":"2.0","id":14,"method":"tools/call","params":{"name":"fail","arguments":{"n":1}}}`,
			`{"jsonrpc":"2.0","id":14,"error":{"code":-32602,"message":"bad n"}}`},
	} {
		got := string(s.Answer([]byte(tt.ask)))
		if tt.want == "" {
			if got != "" {
				t.Errorf("%s: answered %s", tt.ask, got)
			}
			continue
		}
		var g, w any
		if json.Unmarshal([]byte(got), &g) != nil || json.Unmarshal([]byte(tt.want), &w) != nil || !jsonEqual(g, w) {
			t.Errorf("%s:\n got %s\nwant %s", tt.ask, got, tt.want)
		}
	}
	// Not recorded: an error that names the closest recorded request.
	var e struct {
		ID    string
		Error struct {
			Code    int
			Message string
		}
	}
	_ = json.Unmarshal(s.Answer([]byte(`{"jsonrpc":"2.0","id":"q","method":"tools/call","params":{"name":"login","arguments":{"user":"bo"}}}`)), &e)
	if e.ID != "q" || e.Error.Code != replay.CodeNotRecorded || !strings.Contains(e.Error.Message, `"name":"login"`) {
		t.Errorf("an unrecorded call answered %+v", e)
	}
	_ = json.Unmarshal(s.Answer([]byte(`{"jsonrpc":"2.0","id":"r","method":"resources/list"}`)), &e)
	if e.Error.Code != -32601 {
		t.Errorf("a method never recorded answered %+v", e)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestLoadErrors(t *testing.T) {
	if _, err := replay.Load(filepath.Join(t.TempDir(), "none.jsonl")); err == nil {
		t.Error("a missing file loaded")
	}
	if _, err := replay.Load(writeRecording(t, nil)); err == nil || !strings.Contains(err.Error(), "no request") {
		t.Errorf("an empty recording: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	_ = os.WriteFile(bad, []byte("{not json\n"), 0o600)
	if _, err := replay.Load(bad); err == nil || !strings.Contains(err.Error(), "1 lines could not be read") {
		t.Errorf("a broken line alone: %v", err)
	}
}

// TestLoadAsRecordedOverHTTP: a line cut short (a full disk) is skipped,
// not fatal; an initialize sent before its session existed pairs with the
// answer recorded under the session it opened.
func TestLoadAsRecordedOverHTTP(t *testing.T) {
	path := writeRecording(t, []record.Line{
		line(record.ToServer, "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}`),
		line(record.ToClient, "S9", `{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18"}}`),
		line(record.ToServer, "S9", `{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}`),
		line(record.ToClient, "S9", `{"jsonrpc":"2.0","id":2,"result":{"tools":[]}}`),
	})
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, append(b, []byte(`{"time":"2026-12-06T10:00:00Z","dir":"to_se`)...), 0o600); err != nil {
		t.Fatal(err)
	}
	rec, err := replay.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Exchanges) != 2 || rec.Skipped != 1 {
		t.Fatalf("%d exchanges, %d skipped", len(rec.Exchanges), rec.Skipped)
	}
	s := replay.NewServer(rec)
	for ask, want := range map[string]string{
		// Any client may initialize, whatever it says of itself.
		`{"jsonrpc":"2.0","id":5,"method":"initialize","params":{"protocolVersion":"2025-11-25","clientInfo":{"name":"other","version":"9"}}}`: `"result":{"protocolVersion":"2025-06-18"}`,
		// No params and {} are the same request.
		`{"jsonrpc":"2.0","id":6,"method":"tools/list"}`: `"result":{"tools":[]}`,
		// ping is answered, recorded or not.
		`{"jsonrpc":"2.0","id":7,"method":"ping"}`: `"id":7,"result":{}`,
		`[]`:      `"code":-32600`,
		`[1,2`:    `"code":-32700`,
		`"hello"`: `"code":-32600`,
	} {
		var got []byte
		if strings.HasPrefix(ask, "[") {
			got = replayLine(t, s, ask)
		} else {
			got = s.Answer([]byte(ask))
		}
		if !strings.Contains(string(got), want) {
			t.Errorf("%s: %s, want %s", ask, got, want)
		}
	}
}

// replayLine is what ServeStdio answers to one line.
func replayLine(t *testing.T, s *replay.Server, in string) []byte {
	t.Helper()
	var out strings.Builder
	if err := s.ServeStdio(context.Background(), strings.NewReader(in+"\n"), &out); err != nil {
		t.Fatal(err)
	}
	return []byte(out.String())
}

func TestHTTPHandler(t *testing.T) {
	path := writeRecording(t, []record.Line{
		line(record.ToServer, "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}`),
		line(record.ToClient, "", `{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18"}}`),
	})
	rec, err := replay.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := replay.NewServer(rec).HTTPHandler()
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, host, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "http://127.0.0.1/mcp", strings.NewReader(body))
		if host != "" {
			r.Host = host
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	w := do("POST", "", `{"jsonrpc":"2.0","id":7,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}`)
	if w.Code != 200 || w.Header().Get("Mcp-Session-Id") == "" || !strings.Contains(w.Body.String(), `"id":7,"result"`) {
		t.Errorf("initialize: %d %v %s", w.Code, w.Header(), w.Body)
	}
	if w := do("POST", "", `{"jsonrpc":"2.0","method":"notifications/initialized"}`); w.Code != http.StatusAccepted {
		t.Errorf("a notification: %d", w.Code)
	}
	if w := do("GET", "", ""); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", w.Code)
	}
	if w := do("POST", "rebind.evil.com", `{"jsonrpc":"2.0","id":8,"method":"initialize","params":{}}`); w.Code != http.StatusForbidden {
		t.Errorf("a foreign Host: %d, want 403", w.Code)
	}
}
