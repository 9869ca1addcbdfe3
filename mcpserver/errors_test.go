package mcpserver

import (
	"bufio"
	"encoding/json"
	"io"
	"path/filepath"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/memory"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// rawSession serves New's server on a transport made from a pipe and
// speaks raw JSON-RPC to it, so that the codes on the wire are checked.
type rawSession struct {
	in    io.WriteCloser
	lines *bufio.Scanner
	done  chan error
}

func newRawSession(t *testing.T, store memory.Store, wrap func(mcp.Transport) mcp.Transport) *rawSession {
	t.Helper()
	srv := New(Options{Monitor: monitor.New(monitor.Options{DisableSystem: true}), Memory: store})
	clientR, serverW := io.Pipe()
	serverR, clientW := io.Pipe()
	s := &rawSession{in: clientW, lines: bufio.NewScanner(clientR), done: make(chan error, 1)}
	go func() {
		s.done <- srv.Run(t.Context(), wrap(&mcp.IOTransport{Reader: serverR, Writer: serverW}))
		serverW.Close()
	}()
	t.Cleanup(func() {
		clientW.Close()
		<-s.done
	})
	return s
}

// call sends one request line and returns the response's error, nil for a
// result.
func (s *rawSession) call(t *testing.T, line string) *jsonrpc.Error {
	t.Helper()
	if _, err := io.WriteString(s.in, line+"\n"); err != nil {
		t.Fatal(err)
	}
	if !s.lines.Scan() {
		t.Fatalf("%s: no answer (%v)", line, s.lines.Err())
	}
	var res struct {
		Error *jsonrpc.Error `json:"error"`
	}
	if err := json.Unmarshal(s.lines.Bytes(), &res); err != nil {
		t.Fatalf("%s: answer %s: %v", line, s.lines.Bytes(), err)
	}
	return res.Error
}

func (s *rawSession) notify(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(s.in, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

const initLine = `{"jsonrpc":"2.0","id":"init","method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

func openStore(t *testing.T) memory.Store {
	t.Helper()
	store, err := memory.Open(t.Context(), memory.Options{Path: filepath.Join(t.TempDir(), "memory.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// Every error answer carries a code JSON-RPC defines, never 0: the
// server's own refusals, the SDK's refusals, and failures of handlers.
func TestErrorCodesOnTheWire(t *testing.T) {
	type step struct {
		line string
		code int64 // 0: a result
	}
	tests := []struct {
		name  string
		wrap  func(mcp.Transport) mcp.Transport
		store func(memory.Store) // run after initialization
		steps []step
	}{{
		// What reaches the handlers, on any transport (HTTP included).
		name: "after initialization",
		wrap: func(t mcp.Transport) mcp.Transport { return t },
		steps: []step{
			{`{"jsonrpc":"2.0","id":1,"method":"resources/subscribe","params":{"uri":"x://nothing"}}`, mcp.CodeResourceNotFound},
			{`{"jsonrpc":"2.0","id":2,"method":"resources/unsubscribe","params":{"uri":"x://nothing"}}`, mcp.CodeResourceNotFound},
			{`{"jsonrpc":"2.0","id":3,"method":"resources/subscribe","params":{"uri":"memory://knowledge-graph"}}`, 0},
			{initLine, jsonrpc.CodeInvalidRequest}, // a second initialize
			{`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"nope"}}`, jsonrpc.CodeInvalidParams},
			{`{"jsonrpc":"2.0","id":5,"method":"nope/nope"}`, jsonrpc.CodeMethodNotFound},
		},
	}, {
		name:  "a failing handler",
		wrap:  func(t mcp.Transport) mcp.Transport { return t },
		store: func(s memory.Store) { s.Close() },
		steps: []step{
			{`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"memory://knowledge-graph"}}`, jsonrpc.CodeInternalError},
		},
	}, {
		// What the SDK refuses before any middleware runs: only the
		// transport sees those answers.
		name: "before initialization",
		wrap: func(t mcp.Transport) mcp.Transport { return codedTransport{Transport: t} },
		steps: []step{
			{`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, jsonrpc.CodeInvalidRequest},
			{`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"read_graph"}}`, jsonrpc.CodeInvalidRequest},
			{`{"jsonrpc":"2.0","id":3,"method":"initialize","params":5}`, jsonrpc.CodeInvalidParams},
			{`{"jsonrpc":"2.0","id":4,"method":"ping"}`, 0},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := openStore(t)
			s := newRawSession(t, store, tt.wrap)
			if tt.name != "before initialization" {
				if e := s.call(t, initLine); e != nil {
					t.Fatalf("initialize: %v", e)
				}
				s.notify(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
			}
			if tt.store != nil {
				tt.store(store)
			}
			for _, st := range tt.steps {
				e := s.call(t, st.line)
				switch {
				case st.code == 0 && e != nil:
					t.Errorf("%s: error %d %q, want a result", st.line, e.Code, e.Message)
				case st.code != 0 && e == nil:
					t.Errorf("%s: a result, want error %d", st.line, st.code)
				case e != nil && e.Code != st.code:
					t.Errorf("%s: error %d %q, want code %d", st.line, e.Code, e.Message, st.code)
				}
			}
		})
	}
}
