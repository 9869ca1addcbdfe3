package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
	"github.com/mcp-pba-tunnel/pbatunnel/record"
)

func readRecording(t *testing.T, path string) []record.Line {
	t.Helper()
	lines, skipped, err := record.ReadFile(path)
	if err != nil || skipped > 0 {
		t.Fatalf("reading the recording: %v, %d lines not read", err, skipped)
	}
	return lines
}

// compact is a JSON message without the white space between its tokens.
func compact(t *testing.T, raw string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatalf("%q: %v", raw, err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// TestProxyRecordsStdio: proxy --record keeps every line the client and
// the server sent, in order, each with its direction; a secret in the
// arguments is redacted; the file is complete once the proxy exits.
func TestProxyRecordsStdio(t *testing.T) {
	path := filepath.Join(t.TempDir(), "session.jsonl")
	p := startProxy(t, nil, "--addr", "127.0.0.1:0", "--record", path)
	p.initialize()
	call := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi","api_key":"sk-SECRET-1"}}}`
	p.response1(call, "2")
	p.in.Close()
	if code := p.wait(); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	lines := readRecording(t, path)
	var dirs []string
	for _, l := range lines {
		dirs = append(dirs, l.Dir)
		if strings.Contains(string(l.Message), "sk-SECRET-1") {
			t.Errorf("the recording holds the secret: %s", l.Message)
		}
		if l.Time.IsZero() || l.Session != "" {
			t.Errorf("line %+v: want a time and no session (stdio)", l)
		}
	}
	want := []string{record.ToServer, record.ToClient, record.ToServer, record.ToServer, record.ToClient}
	if strings.Join(dirs, " ") != strings.Join(want, " ") {
		t.Fatalf("directions %v, want %v (initialize, its answer, initialized, the call, its answer)", dirs, want)
	}
	if got, want := string(lines[0].Message), compact(t, testInit); compact(t, got) != want {
		t.Errorf("the first line's message %s, want the client's initialize", got)
	}
	if !strings.Contains(string(lines[3].Message), `"api_key":"[redacted]"`) || !strings.Contains(string(lines[4].Message), `"text":"hi"`) {
		t.Errorf("the call %s and its answer %s", lines[3].Message, lines[4].Message)
	}
}

// TestProxyRecordsHTTP: over HTTP each message is recorded with its
// session, the answer as the event that carried it.
func TestProxyRecordsHTTP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	upURL := startServe(t)
	path := filepath.Join(t.TempDir(), "http.jsonl")
	listen := testenv.Addr(testenv.FreePort(t))
	proxy := binaryCommand(ctx, t, []string{"GORACE=atexit_sleep_ms=0"}, "proxy", "--upstream", upURL, "--listen", listen,
		"--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--record", path)
	stopProxy := startUntil(t, proxy, "proxying MCP over HTTP")
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "recorded", Version: "1"}, nil).
		Connect(ctx, &mcp.StreamableClientTransport{Endpoint: "http://" + listen + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "performance_report", Arguments: map[string]any{}}); err != nil {
		t.Fatal(err)
	}
	session := cs.ID()
	_ = cs.Close()
	stopProxy() // the recording is complete once the proxy is done
	var call, answer *record.Line
	lines := readRecording(t, path)
	for i := range lines {
		l := &lines[i]
		if strings.Contains(string(l.Message), `"name":"performance_report"`) && l.Dir == record.ToServer {
			call = l
		}
		if call != nil && l.Dir == record.ToClient && strings.Contains(string(l.Message), `"result"`) && answer == nil && l != call {
			answer = l
		}
	}
	if call == nil || answer == nil {
		t.Fatalf("no call and answer in the recording: %+v", lines)
	}
	if call.Session != session || answer.Session != session || session == "" {
		t.Errorf("sessions %q and %q, want the client's %q", call.Session, answer.Session, session)
	}
}
