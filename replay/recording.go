// Package replay serves a recording made by "proxy --record" as an MCP
// server: each request is answered with the answer the real server gave
// to the same request, so that a client, an agent or a test can run
// against a server that is not there.
package replay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"os"

	"github.com/mcp-pba-tunnel/pbatunnel/capture"
	"github.com/mcp-pba-tunnel/pbatunnel/record"
)

// An Exchange is one request of a client's and the answer it got.
type Exchange struct {
	Method string
	// Params are the request's parameters, without _meta, decoded, as
	// requests are matched against them; nil for none (or {}).
	Params any
	// Sent are the parameters as recorded, _meta included, as they are
	// sent again (--against): a client of the stateless protocol names
	// its version and itself there.
	Sent json.RawMessage
	// Answer is the response without its id: {"result": …} or
	// {"error": …}.
	Answer json.RawMessage
}

// A Recording is what a client asked and was answered, in order.
type Recording struct {
	Exchanges []Exchange
	// Methods are the methods the recording has answers for.
	Methods map[string]bool
	// Skipped counts the lines that could not be read (a line a full
	// disk cut short): the rest of the recording is used.
	Skipped int
}

// maxRecordLine bounds one message read or sent here, as a recording's
// lines are.
const maxRecordLine = 64 << 20

// Load reads a recording, pairing each request of a client's with the
// server's answer by session and id. A request without an answer (the
// recording ended first, or the answer was too long to keep) is left out.
func Load(path string) (*Recording, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	defer f.Close()
	type pending struct {
		at  int // index in order
		req Exchange
	}
	var (
		order   []*Exchange
		waiting = map[string]pending{}
	)
	unusable := 0 // requests whose params do not read
	skipped, err := record.Read(f, func(l record.Line) {
		if l.Message == nil {
			return
		}
		for _, raw := range messages(l.Message) {
			var m struct {
				ID     json.RawMessage `json:"id"`
				Method string          `json:"method"`
				Params json.RawMessage `json:"params"`
				Result json.RawMessage `json:"result"`
				Error  json.RawMessage `json:"error"`
			}
			if json.Unmarshal(raw, &m) != nil || len(m.ID) == 0 || string(m.ID) == "null" {
				continue // notifications, and what is no message
			}
			key := l.Session + "\x00" + string(m.ID)
			switch {
			case l.Dir == record.ToServer && m.Method != "":
				p, err := paramsOf(m.Params)
				if err != nil {
					unusable++
					continue
				}
				e := &Exchange{Method: m.Method, Params: p, Sent: m.Params}
				order = append(order, e)
				waiting[key] = pending{at: len(order) - 1, req: *e}
			case l.Dir == record.ToClient && m.Method == "" && (m.Result != nil || m.Error != nil):
				w, ok := waiting[key]
				if !ok {
					// Over HTTP, a request that opens a session
					// (initialize) was sent with none, and answered
					// under the one it opened.
					nokey := "\x00" + string(m.ID)
					if w, ok = waiting[nokey]; !ok {
						continue
					}
					key = nokey
				}
				delete(waiting, key)
				answer := map[string]json.RawMessage{"result": m.Result}
				if m.Error != nil {
					answer = map[string]json.RawMessage{"error": m.Error}
				}
				order[w.at].Answer, _ = json.Marshal(answer)
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("replay: %s: %w", path, err)
	}
	skipped += unusable
	rec := &Recording{Methods: map[string]bool{}, Skipped: skipped}
	for _, e := range order {
		if e.Answer != nil {
			rec.Exchanges = append(rec.Exchanges, *e)
			rec.Methods[e.Method] = true
		}
	}
	if len(rec.Exchanges) == 0 {
		return nil, fmt.Errorf("replay: %s holds no request with its answer (%d lines could not be read)", path, skipped)
	}
	return rec, nil
}

// messages are the messages of a line: itself, or a batch's.
func messages(raw json.RawMessage) []json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var batch []json.RawMessage
		if json.Unmarshal(raw, &batch) == nil {
			return batch
		}
		return nil
	}
	return []json.RawMessage{raw}
}

// paramsOf decodes params, numbers kept as written, without _meta: trace
// context, progress tokens and client details differ from run to run.
// Params that are empty ({} once _meta is gone) are none: SDKs differ in
// which they send.
func paramsOf(raw json.RawMessage) (any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("params: %w", err)
	}
	if m, ok := v.(map[string]any); ok {
		delete(m, "_meta")
		if len(m) == 0 {
			return nil, nil
		}
	}
	return v, nil
}

// matches reports whether a request's params are the recorded ones: the
// same, except where the recording has a redacted value, which stands for
// any (the secret it hid is not in the file to compare).
func matches(recorded, got any) bool {
	if s, ok := recorded.(string); ok && s == capture.Redacted {
		return true
	}
	switch r := recorded.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(r) {
			return false
		}
		for k, rv := range r {
			gv, ok := g[k]
			if !ok || !matches(rv, gv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(r) {
			return false
		}
		for i := range r {
			if !matches(r[i], g[i]) {
				return false
			}
		}
		return true
	case json.Number:
		g, ok := got.(json.Number)
		if !ok {
			return false
		}
		if r == g {
			return true
		}
		// 1 is 1.0, exactly: floats would take 2^53+1 for 2^53.
		a, okA := new(big.Rat).SetString(string(r))
		b, okB := new(big.Rat).SetString(string(g))
		return okA && okB && a.Cmp(b) == 0
	default:
		return recorded == got
	}
}
