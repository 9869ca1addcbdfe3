package mcpserver

import (
	"bytes"
	"encoding/json"
	"io"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// answers is the writer the SDK writes to: one message (or batch) per
// Write. It keeps the framing's own answers from interleaving with the
// SDK's, and notes every response that goes out.
type answers struct {
	mu sync.Mutex
	w  io.Writer
	f  *framing
}

func (a *answers) Write(p []byte) (int, error) {
	ids := responseIDs(p)
	if len(ids) == 1 && a.dropCancelled(ids[0]) {
		// MCP: the receiver of a cancellation does not answer the request;
		// a client that has forgotten the id would report the answer as
		// one to an unknown request.
		a.f.responded(ids[0].id, 0)
		return len(p), nil
	}
	n, err := a.write(p)
	for _, r := range ids {
		a.answered(r)
		a.f.responded(r.id, len(r.raw))
	}
	return n, err
}

// Close is a no-op: stdout outlives the session.
func (a *answers) Close() error { return nil }

func (a *answers) write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.w.Write(p)
}

// A sentResponse is a response on its way out.
type sentResponse struct {
	id  jsonrpc.ID
	raw []byte
}

// responseIDs returns the responses in an outgoing line.
func responseIDs(p []byte) []sentResponse {
	p = bytes.TrimSpace(p)
	if len(p) == 0 {
		return nil
	}
	var msgs []json.RawMessage
	if p[0] == '[' {
		if json.Unmarshal(p, &msgs) != nil {
			return nil
		}
	} else {
		msgs = []json.RawMessage{p}
	}
	var out []sentResponse
	for _, raw := range msgs {
		if id, ok := responseID(raw); ok {
			out = append(out, sentResponse{id: id, raw: raw})
		}
	}
	return out
}

// dropCancelled reports whether r answers a request the client cancelled,
// forgetting the cancellation if so.
func (a *answers) dropCancelled(r sentResponse) bool {
	f := a.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.cancelled[r.id] {
		return false
	}
	delete(f.cancelled, r.id)
	return true
}

// answered takes a response that went out off the pending set, and the
// protocol version out of the answer to initialize.
func (a *answers) answered(r sentResponse) {
	f := a.f
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answered(r.id)
	if !r.id.IsValid() || r.id != f.initID || f.negotiated != "" {
		return
	}
	var res struct {
		Result struct {
			ProtocolVersion string `json:"protocolVersion"`
		} `json:"result"`
	}
	if json.Unmarshal(r.raw, &res) == nil {
		f.negotiated = res.Result.ProtocolVersion
	}
}

// responseID returns the id of a response, reading the message's top-level
// keys only as far as needed: the SDK writes "id" before "result" or
// "error", so the large result is not scanned.
func responseID(raw []byte) (jsonrpc.ID, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return jsonrpc.ID{}, false
	}
	var (
		id             jsonrpc.ID
		haveID, isResp bool
	)
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return jsonrpc.ID{}, false
		}
		switch t {
		case "method":
			return jsonrpc.ID{}, false
		case "result", "error":
			isResp = true
		case "id":
			var v any
			if dec.Decode(&v) != nil {
				return jsonrpc.ID{}, false
			}
			if n, ok := v.(json.Number); ok {
				f, err := n.Float64()
				if err != nil {
					return jsonrpc.ID{}, false
				}
				v = f
			}
			if id, err = jsonrpc.MakeID(v); err != nil {
				return jsonrpc.ID{}, false
			}
			haveID = true
			continue
		}
		if isResp && haveID {
			return id, true
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return jsonrpc.ID{}, false
		}
	}
	return id, isResp && haveID
}
