package mcpserver

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
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
	if h, ok := readHead(raw); ok {
		switch {
		case h.stop == "method":
			return jsonrpc.ID{}, false
		case h.haveID:
			return h.id, true
		}
	}
	return decodeResponseID(raw) // the id after the result, or an unusual head
}

// requestIDText is the id of a request as text, when its head has it
// before its method (as the SDKs write requests); "" otherwise.
func requestIDText(raw []byte) string {
	h, ok := readHead(raw)
	if !ok || h.stop != "method" || !h.haveID {
		return ""
	}
	return idText(h.id)
}

// idText is an id as the conventions' jsonrpc.request.id has it.
func idText(id jsonrpc.ID) string {
	switch v := id.Raw().(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

// A head is what readHead learned of a message.
type head struct {
	id     jsonrpc.ID
	haveID bool
	stop   string // the key it stopped at: "method", "result" or "error"
}

// readHead reads the message's head as the SDKs write it,
// {"jsonrpc":"2.0","id":7,"result":… or …,"method":…, without a decoder,
// up to the key that says what the message is. ok is false when the head
// holds anything else (escapes, an id that is not a plain integer or
// string, another key), for a decoder to read.
func readHead(raw []byte) (h head, ok bool) {
	b := bytes.TrimLeft(raw, jsonSpace)
	if len(b) == 0 || b[0] != '{' {
		return h, false
	}
	b = b[1:]
	for range 3 {
		key, rest, kok := plainString(bytes.TrimLeft(b, jsonSpace))
		rest = bytes.TrimLeft(rest, jsonSpace)
		if !kok || len(rest) == 0 || rest[0] != ':' {
			return h, false
		}
		rest = bytes.TrimLeft(rest[1:], jsonSpace)
		switch string(key) {
		case "method", "result", "error":
			h.stop = string(key)
			return h, true
		case "jsonrpc":
			if _, rest, kok = plainString(rest); !kok {
				return h, false
			}
		case "id":
			var v any
			end := 0
			for end < len(rest) && (rest[end] == '-' || rest[end] >= '0' && rest[end] <= '9') {
				end++
			}
			if end > 0 {
				n, err := strconv.ParseInt(string(rest[:end]), 10, 64)
				if err != nil || n > 1<<53 || n < -(1<<53) {
					return h, false
				}
				v, rest = float64(n), rest[end:]
			} else {
				var s []byte
				if s, rest, kok = plainString(rest); !kok {
					return h, false
				}
				v = string(s)
			}
			var err error
			if h.id, err = jsonrpc.MakeID(v); err != nil {
				return h, false
			}
			h.haveID = true
		default:
			return h, false
		}
		b = bytes.TrimLeft(rest, jsonSpace)
		if len(b) == 0 || b[0] != ',' {
			return h, false
		}
		b = b[1:]
	}
	return h, false
}

// plainString reads a JSON string without escapes at the start of b.
func plainString(b []byte) (s, rest []byte, ok bool) {
	if len(b) == 0 || b[0] != '"' {
		return nil, b, false
	}
	end := bytes.IndexByte(b[1:], '"')
	if end < 0 || bytes.IndexByte(b[1:1+end], '\\') >= 0 {
		return nil, b, false
	}
	return b[1 : 1+end], b[2+end:], true
}

// decodeResponseID is responseID for any key order and any JSON.
func decodeResponseID(raw []byte) (jsonrpc.ID, bool) {
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
