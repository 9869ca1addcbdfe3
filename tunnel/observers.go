package tunnel

import (
	"bytes"
	"encoding/json"
	"sync"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/capture"
	"github.com/mcp-pba-tunnel/pbatunnel/catalog"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/record"
	"github.com/mcp-pba-tunnel/pbatunnel/telemetry"
	"github.com/mcp-pba-tunnel/pbatunnel/tokens"
)

// Observers are what a tunnel feeds beside the monitor, from the messages
// it relays. Each is optional: nil is off.
type Observers struct {
	// Tokens counts the tokens of the tool results, off the relay's path.
	Tokens *tokens.Counter
	// Payloads keeps each request's parameters and its result, redacted
	// (capture is opt-in: proxy --capture-payloads).
	Payloads *capture.Store
	// Catalog is given the upstream's tool list from the tools/list
	// results that pass.
	Catalog *catalog.Catalog
	// OnSessionEnd is told when a session ends: an HTTP session the
	// client deleted ("http", its id), or the stdio client gone ("stdio",
	// "").
	OnSessionEnd func(transport, id string)
	// Telemetry makes each of the client's requests a SERVER span and a
	// CLIENT span, and hands the CLIENT span's context on in the
	// forwarded request's _meta.
	Telemetry *telemetry.Telemetry
	// Upstream is the server's host:port, for the CLIENT spans (HTTP).
	Upstream string
	// Recorder keeps every message relayed, both ways, as received.
	Recorder *record.Recorder
	// Block, when set, is asked of every tools/call, with the tool's
	// name: a reason, and the tunnel answers the call with an error
	// instead of relaying it; "" lets it through (proxy --on-drift block).
	// A call inside a JSON-RPC batch is relayed all the same: the tunnel
	// relays or drops a line or body whole.
	Block func(tool string) (reason string)
}

// record hands a message as received to the recorder, if any: a line or
// a body trimmed of the white space around it, none if it is blank.
func (o *Observers) record(at time.Time, dir, session string, raw []byte) {
	if o.Recorder == nil {
		return
	}
	if raw = bytes.TrimSpace(raw); len(raw) > 0 {
		o.Recorder.Record(at, dir, session, raw)
	}
}

// omitted tells the recorder of a message too long to hold, of size bytes.
func (o *Observers) omitted(at time.Time, dir, session string, size int) {
	if o.Recorder != nil {
		o.Recorder.Omit(at, dir, session, "longer than the proxy holds (--max-line-size)", size)
	}
}

// maxClients bounds the sessions whose client the tunnel remembers.
const maxClients = 4096

// clients are the clients of the sessions that initialized through the
// tunnel, and the protocol version each agreed, by session id ("" over
// stdio). Safe for concurrent use.
type clients struct {
	mu sync.Mutex
	m  map[string]sessionInfo
}

type sessionInfo struct {
	client   monitor.ClientInfo
	protocol string
}

func (cs *clients) set(session string, c monitor.ClientInfo, protocol string) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.m == nil {
		cs.m = map[string]sessionInfo{}
	}
	if _, ok := cs.m[session]; !ok && len(cs.m) >= maxClients {
		for k := range cs.m { // any one: the map's order is as good as any
			delete(cs.m, k)
			break
		}
	}
	cs.m[session] = sessionInfo{c, protocol}
}

func (cs *clients) get(session string) monitor.ClientInfo {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.m[session].client
}

// protocol is the version the session agreed at initialize, if seen.
func (cs *clients) protocol(session string) string {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.m[session].protocol
}

func (cs *clients) forget(session string) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	delete(cs.m, session)
}

// initializeParams reads the client's name and version from an initialize
// request.
func initializeParams(raw []byte) monitor.ClientInfo {
	var r struct {
		Params struct {
			ClientInfo struct {
				Name    string `json:"name"`
				Version string `json:"version"`
			} `json:"clientInfo"`
		} `json:"params"`
	}
	if json.Unmarshal(raw, &r) != nil {
		return monitor.ClientInfo{}
	}
	return monitor.ClientInfo{Name: r.Params.ClientInfo.Name, Version: r.Params.ClientInfo.Version}
}

// requestParams returns what capture keeps of a request: a tools/call's
// arguments, another request's parameters. The bytes are a copy.
func requestParams(method string, raw []byte) []byte {
	var r struct {
		Params json.RawMessage `json:"params"`
	}
	if json.Unmarshal(raw, &r) != nil || len(r.Params) == 0 {
		return nil
	}
	if method == monitor.MethodToolsCall {
		var p struct {
			Arguments json.RawMessage `json:"arguments"`
		}
		if json.Unmarshal(r.Params, &p) != nil {
			return nil
		}
		return p.Arguments
	}
	return r.Params
}

// hasCursor reports whether a tools/list request asks for a later page.
func hasCursor(raw []byte) bool {
	var r struct {
		Params struct {
			Cursor string `json:"cursor"`
		} `json:"params"`
	}
	return json.Unmarshal(raw, &r) == nil && r.Params.Cursor != ""
}

// responseBody returns a response's result, or its error as
// {"error": …}, raw.
func responseBody(raw []byte) (result, errObj json.RawMessage) {
	var r struct {
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	if json.Unmarshal(raw, &r) != nil {
		return nil, nil
	}
	return r.Result, r.Error
}

// readsAnswer says whether observe reads the answer's bytes of a call
// to method.
func (o *Observers) readsAnswer(method string) bool {
	return o.Payloads != nil || (o.Tokens != nil && method == monitor.MethodToolsCall)
}

// listed gives the catalogue the tools of a tools/list answer, raw. It
// is told before the answer is relayed, unlike observe's observers:
// Block may judge the client's calls by it (--on-drift block), and a
// call the client makes as soon as it has the list must be judged on
// that list, not the one before.
func (o *Observers) listed(method string, req *reqExtra, raw []byte, now time.Time) {
	if o.Catalog == nil || method != "tools/list" || raw == nil {
		return
	}
	if result, _ := responseBody(raw); len(result) > 0 {
		_ = o.Catalog.SetJSON(result, !req.laterPage, now)
	}
}

// observe hands a recorded client request's response to the observers
// (but the catalogue: listed).
func (o *Observers) observe(id uint64, c *monitor.Call, req *reqExtra, raw []byte) {
	if raw == nil {
		if o.Payloads != nil {
			o.Payloads.Keep(id, req.args, nil)
		}
		return
	}
	// The payload is kept before the tokens are offered: the call log
	// that shows a call's tokens, counted on another goroutine, then has
	// its payload too (both are told after the client has its answer).
	if o.Payloads != nil {
		result, errObj := responseBody(raw)
		out := []byte(result)
		if errObj != nil {
			out, _ = json.Marshal(map[string]json.RawMessage{"error": errObj})
		}
		o.Payloads.Keep(id, req.args, out)
	}
	// A protocol error has no result to count; a tool error has one.
	if o.Tokens != nil && c.Method == monitor.MethodToolsCall && (c.ErrorType == "" || c.ErrorType == monitor.ErrorTypeTool) {
		o.Tokens.OfferRaw(id, c.Tool, raw)
	}
}

// reqExtra is what the tunnel learns of a client's request beyond what
// the counters need, for the call log: filled from the request's bytes
// when it is the whole of its line or body.
type reqExtra struct {
	bytes  int64
	client monitor.ClientInfo // an initialize's clientInfo
	// args are what capture keeps of the request (a copy), when on.
	args []byte
	// laterPage marks a tools/list asking for a page after the first.
	laterPage bool
	// traced is the request's two spans as decided when it passed, made
	// when it is over (endTrace, untraced); nil without telemetry.
	traced *tracedRequest
}

// failureText is what a failed answer says: a JSON-RPC error's message,
// or the first text of a tool result with isError. Read only for
// failures, so that an answer's bytes are not parsed twice otherwise.
func failureText(raw []byte) string {
	var r struct {
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
		Result *struct {
			Content []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"content"`
		} `json:"result"`
	}
	if json.Unmarshal(raw, &r) != nil {
		return ""
	}
	if r.Error != nil {
		return r.Error.Message
	}
	if r.Result != nil {
		for _, c := range r.Result.Content {
			if c.Type == "text" {
				return c.Text
			}
		}
	}
	return ""
}
