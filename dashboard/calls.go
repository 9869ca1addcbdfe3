package dashboard

import (
	"encoding/hex"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/capture"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// Limits of GET /api/calls.
const (
	defaultCallsLimit = 100
	maxCallsLimit     = 1000
)

// OutcomeOK is the outcome of a call that succeeded; a failed call's
// outcome is its error type (tool_error, cancelled, a JSON-RPC code, one
// of the tunnel's). OutcomeFailed, as a filter, matches every failure.
const (
	OutcomeOK     = "ok"
	OutcomeFailed = "failed"
)

// callJSON is one call as /api/calls and the stream write it. A figure
// the recorder did not measure (a size, the tokens) is null, never 0.
type callJSON struct {
	ID             uint64     `json:"id"`
	Time           string     `json:"time"`
	SessionID      string     `json:"session_id"`
	Client         clientJSON `json:"client"`
	Transport      string     `json:"transport"`
	Method         string     `json:"method"`
	Tool           string     `json:"tool"`
	FromServer     bool       `json:"from_server,omitempty"`
	DurationMs     float64    `json:"duration_ms"`
	Outcome        string     `json:"outcome"`
	Error          string     `json:"error"`
	RequestBytes   *int64     `json:"request_bytes"`
	ResponseBytes  *int64     `json:"response_bytes"`
	ResponseTokens *int64     `json:"response_tokens"`
	TraceID        *string    `json:"trace_id"`
	SpanID         *string    `json:"span_id"`
}

type clientJSON struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

func callOf(c *monitor.Call) callJSON {
	return callJSON{
		ID:             c.ID,
		Time:           stamp(c.Start),
		SessionID:      c.Session,
		Client:         clientJSON{Name: c.Client.Name, Version: c.Client.Version},
		Transport:      c.Transport,
		Method:         c.Method,
		Tool:           c.Tool,
		FromServer:     c.FromServer,
		DurationMs:     math.Round(float64(c.Duration)/float64(time.Microsecond)) / 1000,
		Outcome:        outcome(c),
		Error:          c.Error,
		RequestBytes:   measured(c.RequestBytes),
		ResponseBytes:  measured(c.ResponseBytes),
		ResponseTokens: measured(c.ResponseTokens),
		TraceID:        hexID(c.TraceID[:]),
		SpanID:         hexID(c.SpanID[:]),
	}
}

func outcome(c *monitor.Call) string {
	if c.OK() {
		return OutcomeOK
	}
	return c.ErrorType
}

// callFilter is the query of /api/calls.
type callFilter struct {
	tool, method, session, client string
	outcome                       string
	minDuration                   time.Duration
	q                             string // lower case
	limit                         int
	before                        uint64 // the cursor: 0 from the newest
}

// parseCallFilter reads the query, or says what is wrong with it.
func parseCallFilter(q url.Values) (callFilter, string) {
	f := callFilter{limit: defaultCallsLimit}
	for k, vs := range q {
		if len(vs) > 1 {
			return f, k + " is given " + strconv.Itoa(len(vs)) + " times; give it once"
		}
	}
	f.tool, f.method, f.session, f.client = q.Get("tool"), q.Get("method"), q.Get("session"), q.Get("client")
	f.outcome = q.Get("outcome")
	f.q = strings.ToLower(q.Get("q"))
	if v := q.Get("min_ms"); v != "" {
		ms, err := strconv.ParseFloat(v, 64)
		if err != nil || ms < 0 || math.IsInf(ms, 0) || math.IsNaN(ms) {
			return f, "min_ms must be a number of milliseconds, 0 or more; got " + strconv.Quote(v)
		}
		f.minDuration = time.Duration(ms * float64(time.Millisecond))
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxCallsLimit {
			return f, "limit must be a whole number from 1 to " + strconv.Itoa(maxCallsLimit) + "; got " + strconv.Quote(v)
		}
		f.limit = n
	}
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 {
			return f, "cursor must be the next_cursor of a previous page; got " + strconv.Quote(v)
		}
		f.before = n
	}
	return f, ""
}

// match reports whether c passes every filter given.
func (f *callFilter) match(c *monitor.Call) bool {
	switch {
	case f.tool != "" && c.Tool != f.tool,
		f.method != "" && c.Method != f.method,
		f.session != "" && c.Session != f.session,
		f.client != "" && c.Client.Name != f.client,
		c.Duration < f.minDuration:
		return false
	}
	switch f.outcome {
	case "":
	case OutcomeFailed:
		if c.OK() {
			return false
		}
	default:
		if outcome(c) != f.outcome {
			return false
		}
	}
	return f.q == "" || containsFold(c.Tool, f.q) || containsFold(c.Error, f.q)
}

// containsFold reports whether s contains the lower-case text sub, case
// folded, without allocating for ASCII s.
func containsFold(s, sub string) bool {
	if len(sub) > len(s) {
		return false
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// calls serves GET /api/calls: the recent calls, newest first, filtered
// and paged. It reads the monitor's ring of recent calls (Options.CallRing
// of them) as it stands: a call shows as soon as it is recorded.
func (a *api) calls(w http.ResponseWriter, r *http.Request) {
	if !checkParams(w, r, "tool", "method", "session", "client", "outcome", "min_ms", "q", "limit", "cursor") {
		return
	}
	f, bad := parseCallFilter(r.URL.Query())
	if bad != "" {
		writeError(w, http.StatusBadRequest, bad)
		return
	}
	// {"calls": [appendCall…], "next_cursor": "id" or null}, written by
	// hand into a pooled buffer (docs/API.md has the shape).
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	b := append((*bp)[:0], `{"calls":[`...)
	var last uint64
	n := 0
	more := false
	for c := range a.m.CallsBefore(f.before) {
		if !f.match(&c) {
			continue
		}
		if n == f.limit {
			more = true // one more matches: there is an older page
			break
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = appendCall(b, &c)
		last = c.ID
		n++
	}
	b = append(b, `],"next_cursor":`...)
	if more {
		b = append(b, '"')
		b = strconv.AppendUint(b, last, 10)
		b = append(b, '"')
	} else {
		b = append(b, "null"...)
	}
	b = append(b, "}\n"...)
	*bp = b
	writeRaw(w, http.StatusOK, b)
}

// callDetail is GET /api/calls/{id}: the call, and its payload when
// capture is on and the payload is still kept.
type callDetail struct {
	callJSON
	// Capture is "on" or "off"; Payload is null when capture is off or
	// the payload has been dropped to keep within the store's budget.
	Capture string       `json:"capture"`
	Payload *payloadJSON `json:"payload"`
}

type payloadJSON struct {
	Arguments partJSON `json:"arguments"`
	Result    partJSON `json:"result"`
}

// partJSON is a payload's arguments or result: the redacted value as JSON
// when kept whole; when cut, its start as text; when not kept, why.
type partJSON struct {
	Value     json.RawMessage `json:"value,omitempty"`
	Text      string          `json:"text,omitempty"`
	Bytes     int             `json:"bytes"`
	Truncated bool            `json:"truncated"`
	Omitted   string          `json:"omitted,omitempty"`
}

func partOf(p capture.Part) partJSON {
	return partJSON{Value: p.JSON, Text: p.Text, Bytes: p.Bytes, Truncated: p.Truncated, Omitted: p.Omitted}
}

// call serves GET /api/calls/{id}.
func (a *api) call(w http.ResponseWriter, r *http.Request) {
	if !checkParams(w, r) {
		return
	}
	v := r.PathValue("id")
	id, err := strconv.ParseUint(v, 10, 64)
	if err != nil || id == 0 {
		writeError(w, http.StatusBadRequest, "a call id is a whole number from 1, as /api/calls gives it; got "+strconv.Quote(v))
		return
	}
	for c := range a.m.CallsBefore(id + 1) {
		if c.ID != id {
			break
		}
		d := callDetail{callJSON: callOf(&c), Capture: "off"}
		if a.opts.Payloads.Enabled() {
			d.Capture = "on"
			if p, ok := a.opts.Payloads.Get(id); ok {
				d.Payload = &payloadJSON{Arguments: partOf(p.Arguments), Result: partOf(p.Result)}
			}
		}
		writeJSON(w, http.StatusOK, d)
		return
	}
	writeError(w, http.StatusNotFound, "no call "+v+" is kept: the monitor keeps the most recent ones only")
}

// hexID is a trace or span id as W3C trace context writes it, nil when
// the call has none.
func hexID(id []byte) *string {
	for _, b := range id {
		if b != 0 {
			s := hex.EncodeToString(id)
			return &s
		}
	}
	return nil
}
