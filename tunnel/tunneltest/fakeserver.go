// Package tunneltest is a scripted MCP server over stdio for tests of what
// sits between an MCP client and server. It is written by hand, without an
// SDK, so that a test knows exactly which bytes it reads and writes, and it
// can record both.
//
// A test binary becomes the server when it is re-executed with EnvServer
// set: call Main first thing in its TestMain (or in an init function), and
// run the server with the command line Command returns.
//
// The server answers initialize (as ServerName, ServerVersion), ping,
// tools/list, and tools/call of these tools:
//
//	echo       {"text": s}  returns s as text content
//	fail       returns a result with isError set
//	rpc_error  answers with the JSON-RPC error -32602
//	slow       {"ms": n}    answers after n milliseconds, without holding up other requests
//	crash      {"code": n}  exits with status n (default ExitCodeCrash) without answering
//	roots      asks the client roots/list, waits for the answer, and returns its result as text
//	notify     sends notifications/message before answering
//	noise      {"size": n}  writes a line that is not JSON and a notification padded to n bytes, then answers
//	pid        returns the server's process id as text
//	block      {"late": b}  waits until the client cancels the request; then answers it anyway if b, else never
//	unask      asks the client roots/list, cancels that request at once, and answers
//	big        {"size": n, "idLast": b, "fail": b}  answers with a text of n bytes, the id after the result if idLast,
//	           isError set if fail
//
// Other methods than initialize and ping are refused with -32002 until the
// client has sent notifications/initialized. A batch is answered with a
// batch. A line that is not JSON is answered with -32700 and id null. On
// SIGTERM or SIGINT the server writes "fake-mcp: got <signal>" to stderr
// and exits with ExitCodeSignal.
package tunneltest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Environment variables the server reads.
const (
	// EnvServer set to 1 makes Main run the server.
	EnvServer = "PBATUNNEL_FAKE_MCP_SERVER"
	// EnvRecord names a directory where the server writes every byte it
	// reads to the file Received and every byte it writes to Sent.
	EnvRecord = "PBATUNNEL_FAKE_MCP_RECORD"
)

// Names and numbers the server uses.
const (
	ServerName     = "fake-mcp"
	ServerVersion  = "1.2.3"
	Received       = "received"
	Sent           = "sent"
	ExitCodeCrash  = 3
	ExitCodeSignal = 42
)

// Main runs the server and exits when EnvServer is 1; otherwise it returns
// at once.
func Main() {
	if os.Getenv(EnvServer) != "1" {
		return
	}
	os.Exit(serve())
}

// Command returns the command line that runs the server: this executable
// with EnvServer set, in this process's environment plus env (such as
// EnvRecord+"="+dir).
func Command(env ...string) (path string, environ []string) {
	environ = append(os.Environ(), EnvServer+"=1")
	if _, ok := os.LookupEnv("GORACE"); !ok {
		// A test binary built with -race otherwise waits a second before
		// it exits, which the tests would spend on every clean exit.
		environ = append(environ, "GORACE=atexit_sleep_ms=0")
	}
	return os.Args[0], append(environ, env...)
}

// server is one run of the fake server.
type server struct {
	mu      sync.Mutex // serialises writes and guards waiting
	out     io.Writer
	waiting map[string]chan json.RawMessage
	nextID  int
	ready   atomic.Bool // the client sent notifications/initialized
	// blocked holds the block tool's requests, by raw id, with the answer
	// to give once the client cancels one (nil: none). Read and written by
	// the reading goroutine only.
	blocked map[string]any
}

func serve() int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		sig := <-sigs
		fmt.Fprintf(os.Stderr, "fake-mcp: got %v\n", sig)
		os.Exit(ExitCodeSignal)
	}()

	var in io.Reader = os.Stdin
	var out io.Writer = os.Stdout
	if dir := os.Getenv(EnvRecord); dir != "" {
		rec, err := os.Create(filepath.Join(dir, Received))
		if err != nil {
			fmt.Fprintln(os.Stderr, "fake-mcp:", err)
			return 1
		}
		sent, err := os.Create(filepath.Join(dir, Sent))
		if err != nil {
			fmt.Fprintln(os.Stderr, "fake-mcp:", err)
			return 1
		}
		// Unbuffered files: a crash loses nothing that was read or written.
		in = io.TeeReader(in, rec)
		out = io.MultiWriter(out, sent)
	}
	s := &server{out: out, waiting: map[string]chan json.RawMessage{}, blocked: map[string]any{}}
	br := bufio.NewReaderSize(in, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			s.handleLine(line)
		}
		if err != nil {
			return 0 // end of input: the client is done
		}
	}
}

// msg is a JSON-RPC message as the server reads it.
type msg struct {
	ID     json.RawMessage `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  json.RawMessage `json:"error,omitempty"`
}

// reply is a response the server writes.
type reply struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (s *server) handleLine(line []byte) {
	trimmed := bytes.TrimSpace(line)
	if trimmed[0] == '[' {
		var batch []msg
		if err := json.Unmarshal(trimmed, &batch); err != nil {
			s.write(reply{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: &rpcError{-32700, "parse error"}})
			return
		}
		var out []reply
		for i := range batch {
			if r, ok := s.handle(&batch[i], false); ok {
				out = append(out, r)
			}
		}
		if len(out) > 0 {
			s.write(out)
		}
		return
	}
	var m msg
	if err := json.Unmarshal(trimmed, &m); err != nil {
		s.write(reply{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: &rpcError{-32700, "parse error"}})
		return
	}
	if r, ok := s.handle(&m, true); ok {
		s.write(r)
	}
}

// handle answers one message. With async, requests that wait (slow, roots)
// are answered from a goroutine of their own and handle returns false.
func (s *server) handle(m *msg, async bool) (reply, bool) {
	switch {
	case m.Method == "" && m.ID != nil: // a response to the server's request
		s.mu.Lock()
		ch := s.waiting[string(m.ID)]
		delete(s.waiting, string(m.ID))
		s.mu.Unlock()
		if ch != nil {
			res := m.Result
			if res == nil {
				res = m.Error
			}
			ch <- res
		}
		return reply{}, false
	case m.ID == nil: // a notification
		switch m.Method {
		case "notifications/initialized":
			s.ready.Store(true)
		case "notifications/cancelled":
			var p struct {
				RequestID json.RawMessage `json:"requestId"`
			}
			_ = json.Unmarshal(m.Params, &p)
			// The late answer is written before the next line is read,
			// so that it comes before the answers to later requests.
			if late, ok := s.blocked[string(p.RequestID)]; ok && late != nil {
				s.write(late)
			}
			delete(s.blocked, string(p.RequestID))
		}
		return reply{}, false
	}
	r := reply{JSONRPC: "2.0", ID: m.ID}
	switch m.Method {
	case "initialize":
		var p struct {
			ProtocolVersion string `json:"protocolVersion"`
		}
		_ = json.Unmarshal(m.Params, &p)
		if p.ProtocolVersion == "" {
			p.ProtocolVersion = "2025-06-18"
		}
		r.Result = map[string]any{
			"protocolVersion": p.ProtocolVersion,
			"capabilities":    map[string]any{"tools": map[string]any{}},
			"serverInfo":      map[string]any{"name": ServerName, "version": ServerVersion},
		}
		return r, true
	case "ping":
		r.Result = map[string]any{}
		return r, true
	}
	if !s.ready.Load() {
		r.Error = &rpcError{-32002, "server not initialized"}
		return r, true
	}
	switch m.Method {
	case "tools/list":
		var tools []map[string]any
		for _, name := range []string{"echo", "fail", "rpc_error", "slow", "crash", "roots", "notify", "noise", "pid", "block", "unask", "big"} {
			tools = append(tools, map[string]any{"name": name, "inputSchema": map[string]any{"type": "object"}})
		}
		r.Result = map[string]any{"tools": tools}
		return r, true
	case "tools/call":
		return s.callTool(m, r, async)
	}
	r.Error = &rpcError{-32601, "method not found: " + m.Method}
	return r, true
}

func (s *server) callTool(m *msg, r reply, async bool) (reply, bool) {
	var p struct {
		Name      string `json:"name"`
		Arguments struct {
			Text   string `json:"text"`
			MS     int    `json:"ms"`
			Code   int    `json:"code"`
			Size   int    `json:"size"`
			Late   bool   `json:"late"`
			IDLast bool   `json:"idLast"`
			Fail   bool   `json:"fail"`
		} `json:"arguments"`
	}
	_ = json.Unmarshal(m.Params, &p)
	text := func(t string) map[string]any {
		return map[string]any{"content": []any{map[string]any{"type": "text", "text": t}}}
	}
	wait := func(fn func() reply) (reply, bool) {
		if !async {
			return fn(), true
		}
		go func() { s.write(fn()) }()
		return reply{}, false
	}
	switch p.Name {
	case "echo":
		r.Result = text(p.Arguments.Text)
	case "fail":
		res := text("the tool failed")
		res["isError"] = true
		r.Result = res
	case "rpc_error":
		r.Error = &rpcError{-32602, "invalid arguments for rpc_error"}
	case "slow":
		return wait(func() reply {
			time.Sleep(time.Duration(p.Arguments.MS) * time.Millisecond)
			r.Result = text("slept " + strconv.Itoa(p.Arguments.MS) + "ms")
			return r
		})
	case "crash":
		code := p.Arguments.Code
		if code == 0 {
			code = ExitCodeCrash
		}
		os.Exit(code)
	case "roots":
		return wait(func() reply {
			r.Result = text(string(s.ask("roots/list")))
			return r
		})
	case "notify":
		// The notification named in text (default a log message), then
		// the answer.
		if p.Arguments.Text != "" {
			s.write(map[string]any{"jsonrpc": "2.0", "method": p.Arguments.Text})
		} else {
			s.write(map[string]any{"jsonrpc": "2.0", "method": "notifications/message",
				"params": map[string]any{"level": "info", "data": "about to answer"}})
		}
		r.Result = text("notified")
	case "noise":
		s.writeRaw([]byte("this line is not JSON\n"))
		s.write(map[string]any{"jsonrpc": "2.0", "method": "notifications/message",
			"params": map[string]any{"level": "debug", "data": strings.Repeat("x", p.Arguments.Size)}})
		r.Result = text("noisy")
	case "pid":
		r.Result = text(strconv.Itoa(os.Getpid()))
	case "block":
		var late any
		if p.Arguments.Late {
			r.Result = text("answered after the cancellation")
			late = r
		}
		s.blocked[string(m.ID)] = late
		return reply{}, false
	case "unask":
		s.mu.Lock()
		s.nextID++
		id := strconv.Quote("srv-" + strconv.Itoa(s.nextID))
		s.mu.Unlock()
		s.write(map[string]any{"jsonrpc": "2.0", "id": json.RawMessage(id), "method": "roots/list"})
		s.write(map[string]any{"jsonrpc": "2.0", "method": "notifications/cancelled",
			"params": map[string]any{"requestId": json.RawMessage(id), "reason": "no longer needed"}})
		r.Result = text("asked and cancelled " + id)
	case "big":
		res := text(strings.Repeat("z", p.Arguments.Size))
		if p.Arguments.Fail {
			res["isError"] = true
		}
		if p.Arguments.IDLast {
			// Members in this order: the id comes after the result.
			return reply{}, s.writeIDLast(m.ID, res)
		}
		r.Result = res
	default:
		r.Error = &rpcError{-32602, "unknown tool: " + p.Name}
	}
	return r, true
}

// writeIDLast writes a response whose id follows its result, as JSON
// allows; it returns false, as handle does for an answer already written.
func (s *server) writeIDLast(id json.RawMessage, result any) bool {
	s.write(struct {
		JSONRPC string          `json:"jsonrpc"`
		Result  any             `json:"result"`
		ID      json.RawMessage `json:"id"`
	}{"2.0", result, id})
	return false
}

// ask sends the client a request and waits for its answer.
func (s *server) ask(method string) json.RawMessage {
	ch := make(chan json.RawMessage, 1)
	s.mu.Lock()
	s.nextID++
	id := strconv.Quote("srv-" + strconv.Itoa(s.nextID))
	s.waiting[id] = ch
	s.mu.Unlock()
	s.write(map[string]any{"jsonrpc": "2.0", "id": json.RawMessage(id), "method": method})
	return <-ch
}

func (s *server) write(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	s.writeRaw(append(b, '\n'))
}

func (s *server) writeRaw(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.out.Write(b); err != nil {
		os.Exit(1) // the client is gone
	}
}
