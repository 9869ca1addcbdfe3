package mcpserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// framing is the reader the SDK's transport reads validated lines from,
// and, through out, the writer it writes answers to.
type framing struct {
	ctx context.Context
	in  *bufio.Reader
	out *answers
	o   StdioOptions

	next []byte // the rest of the line being handed to the SDK

	mu      sync.Mutex
	changed chan struct{} // closed and replaced when pending shrinks or the framing closes
	// pending are the requests read and not yet answered or cancelled.
	// A set: a request reusing the id of one in flight is refused (admit).
	pending   map[jsonrpc.ID]struct{}
	cancelled map[jsonrpc.ID]bool
	// sizes are the sizes of the requests read and not yet handed to the
	// SDK; exchanges, those handed on (see measure).
	sizes     map[jsonrpc.ID]int64
	exchanges map[jsonrpc.ID]stdioExchange
	closed    bool
	sum       StdioSummary
	// asked is the protocol version the client's initialize asked for,
	// negotiated the one the server's answer gave.
	asked, negotiated string
	initialized       bool
	initID            jsonrpc.ID
}

// batchVersions are the protocol versions that have JSON-RPC batches.
var batchVersions = map[string]bool{"2024-11-05": true, "2025-03-26": true}

// batchless reports whether the session's protocol has no batches, and
// which protocol that is. The SDK fails the whole session on a batch the
// protocol lacks, so this errs on the side of refusing: it goes by the
// version the client asked for until the answer names the one agreed (a
// client that asks for a version the server does not know gets the
// server's latest, which has none). Before initialize, the SDK takes
// batches.
func (f *framing) batchless() (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.initialized {
		return "", false
	}
	if f.negotiated != "" && !batchVersions[f.negotiated] {
		return f.negotiated, true
	}
	if batchVersions[f.asked] {
		return "", false
	}
	if f.asked == "" {
		return "(unknown version)", true
	}
	return f.asked, true
}

func newFraming(ctx context.Context, o StdioOptions) *framing {
	f := &framing{
		ctx:       ctx,
		in:        bufio.NewReaderSize(o.In, 64<<10),
		o:         o,
		changed:   make(chan struct{}),
		pending:   map[jsonrpc.ID]struct{}{},
		cancelled: map[jsonrpc.ID]bool{},
		sizes:     map[jsonrpc.ID]int64{},
		exchanges: map[jsonrpc.ID]stdioExchange{},
	}
	f.out = &answers{w: o.Out, f: f}
	return f
}

// Read hands the SDK the next valid line, answering invalid ones itself.
// At end of input it waits for the requests read to be answered before
// it returns io.EOF.
func (f *framing) Read(p []byte) (int, error) {
	for len(f.next) == 0 {
		line, err := f.readLine()
		switch {
		case errors.Is(err, errLineTooLong):
			f.refuse(jsonrpc.ID{}, jsonrpc.CodeInvalidRequest,
				fmt.Sprintf("Invalid Request: message longer than %d bytes", f.o.MaxLineSize))
			continue
		case err == io.EOF && len(line) == 0:
			f.drain()
			return 0, io.EOF
		case err != nil && err != io.EOF:
			return 0, err
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if f.admit(line) {
			f.next = append(line, '\n')
		}
	}
	n := copy(p, f.next)
	f.next = f.next[n:]
	return n, nil
}

var errLineTooLong = errors.New("line too long")

// readLine returns the next line without its newline, or errLineTooLong
// after skipping past the end of a line longer than the limit. The last
// line may lack a newline.
func (f *framing) readLine() ([]byte, error) {
	var line []byte
	for {
		chunk, err := f.in.ReadSlice('\n')
		if len(line)+len(chunk) > f.o.MaxLineSize+1 {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = f.in.ReadSlice('\n')
			}
			if err != nil && err != io.EOF {
				return nil, err
			}
			return nil, errLineTooLong
		}
		line = append(line, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimSuffix(line, []byte("\n")), err
	}
}

// Close ends a Read waiting at end of input: the SDK closes its connection
// when the session ends for another reason.
func (f *framing) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		close(f.changed)
	}
	return nil
}

// drain waits until every request read has been answered or cancelled, the
// drain timeout passes, ctx ends or the framing is closed.
func (f *framing) drain() {
	f.mu.Lock()
	f.sum.ClientClosed = true
	f.mu.Unlock()
	timeout := time.NewTimer(f.o.DrainTimeout)
	defer timeout.Stop()
	for {
		f.mu.Lock()
		n, changed, closed := len(f.pending), f.changed, f.closed
		f.mu.Unlock()
		if n == 0 || closed {
			return
		}
		select {
		case <-changed:
		case <-timeout.C:
			f.mu.Lock()
			f.sum.DrainTimedOut = true
			f.sum.Unanswered += len(f.pending)
			f.mu.Unlock()
			return
		case <-f.ctx.Done():
			return
		}
	}
}

func (f *framing) summary() StdioSummary {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.sum
	if !s.DrainTimedOut {
		s.Unanswered += len(f.pending)
	}
	return s
}

// admit checks a line and registers the requests in it. It answers a line
// it refuses and reports whether the SDK may read it.
func (f *framing) admit(line []byte) bool {
	if !json.Valid(line) {
		// Also what DecodeMessage would miss: bytes trailing the object,
		// on which the SDK's reader fails the session.
		f.refuse(jsonrpc.ID{}, jsonrpc.CodeParseError, "Parse error: the line is not valid JSON")
		return false
	}
	if line[0] != '[' {
		m, bad := f.decode(line)
		if bad != nil {
			f.refuseMessage(bad)
			return false
		}
		f.register(m, len(line))
		return true
	}
	var batch []json.RawMessage
	if err := json.Unmarshal(line, &batch); err != nil || len(batch) == 0 {
		f.refuse(jsonrpc.ID{}, jsonrpc.CodeInvalidRequest, "Invalid Request: empty batch")
		return false
	}
	if v, ok := f.batchless(); ok {
		f.refuse(jsonrpc.ID{}, jsonrpc.CodeInvalidRequest, "Invalid Request: JSON-RPC batches are not part of MCP "+v)
		return false
	}
	// The SDK tracks every request of a batch by id, notifications
	// under the empty one, and ends the session on an id it sees twice:
	// such batches are refused whole, as is one with a bad element.
	msgs := make([]jsonrpc.Message, len(batch))
	seen := map[jsonrpc.ID]bool{}
	for i, raw := range batch {
		m, bad := f.decode(raw)
		if bad != nil {
			f.refuse(jsonrpc.ID{}, jsonrpc.CodeInvalidRequest, fmt.Sprintf("Invalid Request: batch element %d: %s", i, bad.message))
			return false
		}
		if req, ok := m.(*jsonrpc.Request); ok {
			if !req.IsCall() {
				f.refuse(jsonrpc.ID{}, jsonrpc.CodeInvalidRequest, fmt.Sprintf("Invalid Request: batch element %d: notifications in a batch are not supported; send them on their own lines", i))
				return false
			}
			if seen[req.ID] {
				f.refuse(jsonrpc.ID{}, jsonrpc.CodeInvalidRequest, fmt.Sprintf("Invalid Request: request id %v is used twice in the batch", req.ID.Raw()))
				return false
			}
			seen[req.ID] = true
		}
		msgs[i] = m
	}
	for i, m := range msgs {
		f.register(m, len(batch[i]))
	}
	return true
}

// A refusal is why a message is not served, and how to answer it.
type refusal struct {
	id      jsonrpc.ID // the id to answer with; invalid for null
	message string
	silent  bool // a response from the client: JSON-RPC answers none
}

// decode checks one message (valid JSON) as the SDK will read it.
func (f *framing) decode(raw []byte) (jsonrpc.Message, *refusal) {
	// Keys are matched exactly, as the SDK's decoder does.
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return nil, &refusal{message: "Invalid Request: not a JSON-RPC 2.0 message object"}
	}
	_, hasMethod := obj["method"]
	_, hasResult := obj["result"]
	_, hasError := obj["error"]
	isResponse := !hasMethod && (hasResult || hasError)
	id, idOK := parseID(obj["id"])
	if !idOK {
		return nil, &refusal{silent: isResponse, message: "Invalid Request: the id must be a string, an integer or null"}
	}
	m, err := jsonrpc.DecodeMessage(raw)
	if err != nil {
		return nil, &refusal{id: id, silent: isResponse, message: "Invalid Request: " + strings.TrimPrefix(err.Error(), "unmarshaling jsonrpc message: ")}
	}
	if req, ok := m.(*jsonrpc.Request); ok && req.IsCall() && f.inFlight(req.ID) {
		// The SDK would take the repeat for a notification and answer
		// nothing; the first request keeps the id.
		return nil, &refusal{message: fmt.Sprintf("Invalid Request: request id %v is already in flight", req.ID.Raw())}
	}
	if req, ok := m.(*jsonrpc.Request); ok && req.IsCall() && f.beingCancelled(req.ID) {
		// The cancelled request may still be running and answer under
		// this id: the new one would get its answer, and none of its own.
		return nil, &refusal{message: fmt.Sprintf("Invalid Request: request id %v was cancelled and is still running; use another id", req.ID.Raw())}
	}
	return m, nil
}

// parseID reads a JSON-RPC id: absent, null, a string or an integer of at
// most 2^53. The SDK would turn 3.5 into 3 and 1e300 into a wrapped
// integer, answering under an id the client never sent.
func parseID(raw json.RawMessage) (jsonrpc.ID, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return jsonrpc.ID{}, true
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return jsonrpc.ID{}, false
		}
		id, err := jsonrpc.MakeID(s)
		return id, err == nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		// The SDK reads numbers as float64: integers beyond 2^53 would
		// come back as other integers.
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || n > 1<<53 || n < -(1<<53) {
			return jsonrpc.ID{}, false
		}
		id, err := jsonrpc.MakeID(float64(n))
		return id, err == nil
	}
	return jsonrpc.ID{}, false
}

// refuseMessage answers a refused message, unless it was a response.
func (f *framing) refuseMessage(r *refusal) {
	if r.silent {
		f.mu.Lock()
		f.sum.Invalid++
		f.mu.Unlock()
		if f.o.OnBadLine != nil {
			f.o.OnBadLine(jsonrpc.CodeInvalidRequest, r.message+" (a response, so not answered)")
		}
		return
	}
	f.refuse(r.id, jsonrpc.CodeInvalidRequest, r.message)
}

// refuse writes an error response and counts the line. The response is
// built here because JSON-RPC wants "id": null on an error whose request
// id is unknown, which the SDK's encoder leaves out.
func (f *framing) refuse(id jsonrpc.ID, code int64, message string) {
	f.mu.Lock()
	f.sum.Invalid++
	f.mu.Unlock()
	if f.o.OnBadLine != nil {
		f.o.OnBadLine(code, message)
	}
	b, err := json.Marshal(struct {
		JSONRPC string         `json:"jsonrpc"`
		ID      any            `json:"id"`
		Error   *jsonrpc.Error `json:"error"`
	}{"2.0", id.Raw(), &jsonrpc.Error{Code: code, Message: message}})
	if err != nil {
		return
	}
	_, _ = f.out.write(append(b, '\n'))
}

func (f *framing) inFlight(id jsonrpc.ID) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.inFlightLocked(id)
}

// beingCancelled reports whether id is a request the client cancelled
// whose answer the SDK has not written yet.
func (f *framing) beingCancelled(id jsonrpc.ID) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cancelled[id]
}

func (f *framing) inFlightLocked(id jsonrpc.ID) bool {
	_, ok := f.pending[id]
	return ok
}

// register notes a request the SDK will answer, and its size, or a
// cancellation that means it need not be waited for.
func (f *framing) register(m jsonrpc.Message, size int) {
	req, ok := m.(*jsonrpc.Request)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if req.IsCall() {
		f.sum.Requests++
		f.pending[req.ID] = struct{}{}
		f.sizes[req.ID] = int64(size)
		if req.Method == "initialize" && !f.initialized {
			// The SDK refuses a second initialize; the first one sets
			// the protocol. Keys are matched exactly, as the SDK does.
			var p map[string]json.RawMessage
			_ = json.Unmarshal(req.Params, &p)
			_ = json.Unmarshal(p["protocolVersion"], &f.asked)
			f.initialized = true
			f.initID = req.ID
		}
		return
	}
	if req.Method != "notifications/cancelled" {
		return
	}
	var p struct {
		RequestID any `json:"requestId"`
	}
	if json.Unmarshal(req.Params, &p) != nil {
		return
	}
	if id, err := jsonrpc.MakeID(p.RequestID); err == nil && f.inFlightLocked(id) {
		// The client expects no answer to a request it cancelled.
		f.answered(id)
		f.cancelled[id] = true
	}
}

// answered removes the request with id from pending. Callers hold f.mu.
func (f *framing) answered(id jsonrpc.ID) {
	if !f.inFlightLocked(id) {
		return
	}
	delete(f.pending, id)
	if !f.closed {
		close(f.changed)
		f.changed = make(chan struct{})
	}
}
