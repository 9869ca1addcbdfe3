package replay

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// Codes of the errors the replay answers with.
const (
	// CodeNotRecorded answers a request of a method the recording has,
	// with parameters it has no answer for. In the range JSON-RPC leaves
	// to servers.
	CodeNotRecorded = -32001
	codeNoMethod    = -32601 // a method the recording never saw
	codeParse       = -32700
	codeInvalid     = -32600
)

// A Server answers requests from a recording. Safe for concurrent use.
type Server struct {
	rec *Recording

	mu   sync.Mutex
	next map[int]int // per exchange index of a request seen again: how many times answered
}

// NewServer returns a server of rec.
func NewServer(rec *Recording) *Server { return &Server{rec: rec, next: map[int]int{}} }

// Answer returns the response to one JSON-RPC message, nil for one that
// takes none (a notification, a response of the client's).
func (s *Server) Answer(raw []byte) []byte {
	if !json.Valid(raw) {
		return errorResponse(json.RawMessage("null"), codeParse, "Parse error: not JSON")
	}
	var m struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return errorResponse(json.RawMessage("null"), codeInvalid, "Invalid Request: not a JSON-RPC message object")
	}
	if m.Method == "" || len(m.ID) == 0 || string(m.ID) == "null" {
		return nil
	}
	params, err := paramsOf(m.Params)
	if err != nil {
		return errorResponse(m.ID, -32602, "Invalid params: "+err.Error())
	}
	var answer json.RawMessage
	ok := false
	switch {
	case m.Method == "ping":
		// Every server answers ping, recorded or not.
		answer, ok = json.RawMessage(`{"result":{}}`), true
	case m.Method == "initialize" && s.rec.Methods["initialize"]:
		// Any client may start a session: the recorded server's answer,
		// whatever the client's name, version or capabilities.
		answer, ok = s.first("initialize"), true
	case !s.rec.Methods[m.Method]:
		return errorResponse(m.ID, codeNoMethod, fmt.Sprintf("Method not found: the recording has no %s", m.Method))
	default:
		answer, ok = s.find(m.Method, params)
	}
	if !ok {
		return errorResponse(m.ID, CodeNotRecorded, s.closestMessage(m.Method, params))
	}
	// {"jsonrpc":"2.0","id":ID, then the answer's own member.
	out := append([]byte(`{"jsonrpc":"2.0","id":`), m.ID...)
	out = append(out, ',')
	return append(out, answer[1:]...)
}

// first is the answer to the first recorded request of method.
func (s *Server) first(method string) json.RawMessage {
	for _, e := range s.rec.Exchanges {
		if e.Method == method {
			return e.Answer
		}
	}
	return nil
}

// find returns the answer to a request: of the recorded requests that
// match it, the one after the last one given, so that a request made
// twice is answered as it was each time (the last answer once they are
// used up).
func (s *Server) find(method string, params any) (json.RawMessage, bool) {
	var found []int
	for i, e := range s.rec.Exchanges {
		if e.Method == method && matches(e.Params, params) {
			found = append(found, i)
		}
	}
	if len(found) == 0 {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := found[0]
	n := s.next[k]
	s.next[k] = n + 1
	return s.rec.Exchanges[found[min(n, len(found)-1)]].Answer, true
}

// closestMessage names the recorded request of method most like the one
// asked, for the error.
func (s *Server) closestMessage(method string, params any) string {
	asked, _ := json.Marshal(params)
	best, bestD, seen := "", -1, map[string]bool{}
	for _, e := range s.rec.Exchanges {
		if e.Method != method {
			continue
		}
		p, _ := json.Marshal(e.Params)
		if seen[string(p)] {
			continue
		}
		seen[string(p)] = true
		if len(seen) > maxCandidates {
			break // the answer is an error: it need not search everything
		}
		if d := distance(string(asked), string(p)); bestD < 0 || d < bestD {
			best, bestD = string(p), d
		}
	}
	return fmt.Sprintf("no recorded answer to %s with params %s; the closest recorded: %s", method, cut(string(asked)), cut(best))
}

func cut(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// maxCandidates bounds the recorded requests compared for the closest.
const maxCandidates = 200

// distance is the edit distance of a and b, on their first 300 bytes.
func distance(a, b string) int {
	a, b = a[:min(len(a), 300)], b[:min(len(b), 300)]
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func errorResponse(id json.RawMessage, code int, msg string) []byte {
	b, _ := json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}{JSONRPC: "2.0", ID: id, Error: struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{code, msg}})
	return b
}

// ServeStdio answers the newline-delimited JSON-RPC messages of in on out
// until in ends or ctx does. Batches are answered as batches.
func (s *Server) ServeStdio(ctx context.Context, in io.Reader, out io.Writer) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, maxRecordLine)
	w := bufio.NewWriter(out)
	for sc.Scan() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var answer []byte
		if line[0] == '[' {
			answer = s.answerBatch(line)
		} else {
			answer = s.Answer(line)
		}
		if answer == nil {
			continue
		}
		if _, err := w.Write(append(answer, '\n')); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return sc.Err()
}

// answerBatch answers a batch with a batch; a batch that is empty or not
// JSON gets one error, as JSON-RPC says.
func (s *Server) answerBatch(raw []byte) []byte {
	msgs := messages(raw)
	switch {
	case !json.Valid(raw):
		return errorResponse(json.RawMessage("null"), codeParse, "Parse error: not JSON")
	case len(msgs) == 0:
		return errorResponse(json.RawMessage("null"), codeInvalid, "Invalid Request: an empty batch")
	}
	var parts [][]byte
	for _, m := range msgs {
		if a := s.Answer(m); a != nil {
			parts = append(parts, a)
		}
	}
	if len(parts) == 0 {
		return nil
	}
	return append(append([]byte("["), bytes.Join(parts, []byte(","))...), ']')
}
