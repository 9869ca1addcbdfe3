package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// callsFixture records a known set of calls: two clients, two sessions
// over HTTP and one over stdio, every outcome kind.
func callsFixture(t *testing.T) (*monitor.Monitor, string) {
	t.Helper()
	m := monitor.New(monitor.Options{DisableSystem: true})
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	claude := monitor.ClientInfo{Name: "claude-code", Version: "2.1.0"}
	cursor := monitor.ClientInfo{Name: "cursor", Version: "1.7"}
	calls := []monitor.Call{
		{Method: "initialize", Session: "s1", Client: claude, Transport: monitor.TransportHTTP, Duration: time.Millisecond},
		{Method: "tools/list", Session: "s1", Client: claude, Transport: monitor.TransportHTTP, Duration: 2 * time.Millisecond},
		{Method: "tools/call", Tool: "search_nodes", Session: "s1", Client: claude, Transport: monitor.TransportHTTP,
			Duration: 7 * time.Millisecond, RequestBytes: 120, ResponseBytes: 4096, ResponseTokens: 900},
		{Method: "tools/call", Tool: "search_nodes", Session: "s2", Client: cursor, Transport: monitor.TransportHTTP,
			Duration: 40 * time.Millisecond, ErrorType: monitor.ErrorTypeTool, Error: "No entity named Ada Lovelace"},
		{Method: "tools/call", Tool: "code_analysis", Client: cursor, Transport: monitor.TransportStdio,
			Duration: 1500 * time.Millisecond, ErrorType: "-32602", Error: "invalid params: path is required"},
		{Method: "resources/read", Client: cursor, Transport: monitor.TransportStdio, Duration: 3 * time.Millisecond,
			ErrorType: monitor.ErrorTypeCancelled},
		{Method: "tools/call", Tool: "<img src=x onerror=alert(1)>", Session: "s2", Client: cursor, Transport: monitor.TransportHTTP,
			Duration: 5 * time.Millisecond},
	}
	for i, c := range calls {
		c.Start = at.Add(time.Duration(i) * time.Second)
		m.RecordCall(c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Start(ctx, m, Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := s.Wait(); err != nil {
			t.Errorf("server: %v", err)
		}
	})
	return m, "http://" + s.Addr()
}

// callsStreamed is the data of a "calls" event.
type callsStreamed struct {
	Calls   []callJSON `json:"calls"`
	Skipped uint64     `json:"skipped"`
}

// callsResponse is what GET /api/calls answers.
type callsResponse struct {
	Calls []callJSON `json:"calls"`
	// NextCursor is the cursor of the next (older) page, null on the
	// last one.
	NextCursor *string `json:"next_cursor"`
}

func getCalls(t *testing.T, base, query string) callsResponse {
	t.Helper()
	var res callsResponse
	if code := getJSON(t, base+"/api/calls?"+query, &res); code != http.StatusOK {
		t.Fatalf("/api/calls?%s: HTTP %d", query, code)
	}
	return res
}

func ids(cs []callJSON) string {
	var b strings.Builder
	for i, c := range cs {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, c.ID)
	}
	return b.String()
}

func TestCallsFilters(t *testing.T) {
	_, base := callsFixture(t)
	tests := []struct {
		query string
		want  string // ids, newest first
	}{
		{"", "7,6,5,4,3,2,1"},
		{"tool=search_nodes", "4,3"},
		{"method=tools/call", "7,5,4,3"},
		{"method=initialize", "1"},
		{"session=s2", "7,4"},
		{"client=cursor", "7,6,5,4"},
		{"client=claude-code&method=tools/call", "3"},
		{"outcome=ok", "7,3,2,1"},
		{"outcome=failed", "6,5,4"},
		{"outcome=tool_error", "4"},
		{"outcome=-32602", "5"},
		{"outcome=cancelled", "6"},
		{"min_ms=7", "5,4,3"},
		{"min_ms=7.5", "5,4"},
		{"min_ms=0", "7,6,5,4,3,2,1"},
		{"q=ADA", "4"},       // in the error, any case
		{"q=analysis", "5"},  // in the tool
		{"q=onerror", "7"},   // hostile text is only text
		{"q=tools/call", ""}, // the method is not searched
		{"tool=nothing", ""}, // no match is an empty page, not an error
		{"limit=2", "7,6"},   // the first page
		{"cursor=6&limit=2", "5,4"},
		{"cursor=2", "1"},
		{"cursor=1", ""},
		{"cursor=1000", "7,6,5,4,3,2,1"}, // beyond the newest: from the newest
	}
	for _, tt := range tests {
		res := getCalls(t, base, tt.query)
		if got := ids(res.Calls); got != tt.want {
			t.Errorf("?%s: ids %q, want %q", tt.query, got, tt.want)
		}
		if res.Calls == nil {
			t.Errorf("?%s: calls is null, want a list", tt.query)
		}
	}
}

func TestCallsPaging(t *testing.T) {
	_, base := callsFixture(t)
	var got []string
	query := "limit=3"
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		res := getCalls(t, base, query)
		got = append(got, ids(res.Calls))
		if res.NextCursor == nil {
			break
		}
		query = "limit=3&cursor=" + url.QueryEscape(*res.NextCursor)
	}
	if want := "7,6,5|4,3,2|1"; strings.Join(got, "|") != want {
		t.Errorf("pages %q, want %q", strings.Join(got, "|"), want)
	}
	// A page that ends exactly at the oldest call has no next cursor.
	if res := getCalls(t, base, "limit=7"); res.NextCursor != nil {
		t.Errorf("limit=7 of 7 calls: next cursor %q, want null", *res.NextCursor)
	}
	// Filtered paging pages through the matches only.
	res := getCalls(t, base, "client=cursor&limit=3")
	if ids(res.Calls) != "7,6,5" || res.NextCursor == nil {
		t.Fatalf("first filtered page %q, cursor %v", ids(res.Calls), res.NextCursor)
	}
	res = getCalls(t, base, "client=cursor&limit=3&cursor="+*res.NextCursor)
	if ids(res.Calls) != "4" || res.NextCursor != nil {
		t.Errorf("second filtered page %q, cursor %v; want 4 and none", ids(res.Calls), res.NextCursor)
	}
}

func TestCallsFields(t *testing.T) {
	_, base := callsFixture(t)
	res, body := get(t, base+"/api/calls?limit=7")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d", res.StatusCode)
	}
	var raw struct {
		Calls []map[string]any `json:"calls"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	third := raw.Calls[4] // id 3
	want := map[string]any{
		"id": 3.0, "time": "2026-12-06T10:00:02.000Z", "session_id": "s1",
		"client": map[string]any{"name": "claude-code", "version": "2.1.0"}, "transport": "http",
		"method": "tools/call", "tool": "search_nodes", "duration_ms": 7.0, "outcome": "ok", "error": "",
		"request_bytes": 120.0, "response_bytes": 4096.0, "response_tokens": 900.0,
	}
	for k, v := range want {
		if fmt.Sprint(third[k]) != fmt.Sprint(v) {
			t.Errorf("call 3: %s = %v, want %v", k, third[k], v)
		}
	}
	// Sizes and tokens not measured are null, never 0.
	first := raw.Calls[6]
	for _, k := range []string{"request_bytes", "response_bytes", "response_tokens"} {
		if v, ok := first[k]; !ok || v != nil {
			t.Errorf("call 1: %s = %v (present %v), want null", k, v, ok)
		}
	}
	if fifth := raw.Calls[2]; fifth["outcome"] != "-32602" || fifth["duration_ms"] != 1500.0 || fifth["session_id"] != "" || fifth["transport"] != "stdio" {
		t.Errorf("call 5: %v", fifth)
	}
}

func TestCallsBadQueries(t *testing.T) {
	_, base := callsFixture(t)
	for _, q := range []string{
		"limit=0", "limit=1001", "limit=ten", "limit=-1",
		"min_ms=-1", "min_ms=fast", "min_ms=Inf", "min_ms=NaN",
		"cursor=0", "cursor=abc", "cursor=-3",
		"tool=a&tool=b", "since=1h", "%zz",
	} {
		res, body := get(t, base+"/api/calls?"+q)
		var e struct {
			Error string `json:"error"`
		}
		if res.StatusCode != http.StatusBadRequest || json.Unmarshal(body, &e) != nil || e.Error == "" {
			t.Errorf("?%s: HTTP %d %s, want 400 with a JSON error", q, res.StatusCode, body)
		}
	}
}

// TestStreamCalls checks that calls recorded while a page listens arrive
// as "calls" events, newest first, and that a burst beyond what one event
// carries says how many it left out.
func TestStreamCalls(t *testing.T) {
	m, base := callsFixture(t)
	next := openStream(t, base)
	m.RecordCall(monitor.Call{Method: "tools/call", Tool: "after_connect", Duration: time.Millisecond})
	m.RecordCall(monitor.Call{Method: "ping", Duration: time.Millisecond})
	var got callsStreamed
	for {
		e := next()
		if e[0] != "calls" {
			continue
		}
		if err := json.Unmarshal([]byte(e[1]), &got); err != nil {
			t.Fatal(err)
		}
		break
	}
	if ids(got.Calls) != "9,8" || got.Calls[1].Tool != "after_connect" || got.Skipped != 0 {
		t.Errorf("first calls event: %+v, want calls 9 and 8 (not the ones recorded before the stream opened)", got)
	}
	for range callsPerEvent + 50 {
		m.RecordCall(monitor.Call{Method: "ping", Duration: time.Millisecond})
	}
	var sent, skipped uint64
	var newest uint64
	for sent+skipped < callsPerEvent+50 {
		e := next()
		if e[0] != "calls" {
			continue
		}
		var d callsStreamed
		if err := json.Unmarshal([]byte(e[1]), &d); err != nil {
			t.Fatal(err)
		}
		if len(d.Calls) > callsPerEvent {
			t.Fatalf("an event carries %d calls, more than %d", len(d.Calls), callsPerEvent)
		}
		newest = max(newest, d.Calls[0].ID)
		sent += uint64(len(d.Calls))
		skipped += d.Skipped
	}
	if sent+skipped != callsPerEvent+50 || newest != 9+callsPerEvent+50 {
		t.Errorf("burst: %d sent + %d skipped, newest %d; want %d in all, newest %d", sent, skipped, newest, callsPerEvent+50, 9+callsPerEvent+50)
	}
}

// TestAppendCallMatchesEncodingJSON checks the hand-written encoder of
// /api/calls against encoding/json on the same calls, hostile text,
// invalid UTF-8 and every optional field included.
func TestAppendCallMatchesEncodingJSON(t *testing.T) {
	at := time.Date(2026, 12, 6, 10, 0, 0, 123456789, time.FixedZone("x", 3600))
	for _, c := range []monitor.Call{
		{ID: 1, Start: at, Method: "initialize"},
		{ID: 2, Start: at, Duration: 1234567 * time.Nanosecond, Method: "tools/call", Tool: `<img src=x onerror="alert(1)">`,
			Session: "s\x00\x1f\"\\", Client: monitor.ClientInfo{Name: "é\u2028\u2029", Version: "\xff\xfe"}, Transport: "http",
			ErrorType: "-32602", Error: "line\nbreak\ttab\r&amp;", RequestBytes: 12, ResponseBytes: 34, ResponseTokens: 56, FromServer: true},
		{ID: 3, Start: at, Duration: 5 * time.Hour, Method: "ping", ErrorType: monitor.ErrorTypeCancelled},
		{ID: 4, Start: at, Duration: 499 * time.Nanosecond, Method: "x"},
		{ID: 5, Start: at, Method: "tools/call", TraceID: [16]byte{0x0a, 0xf7, 15: 0x9c}, SpanID: [8]byte{7: 1}},
	} {
		want, err := json.Marshal(callOf(&c))
		if err != nil {
			t.Fatal(err)
		}
		if got := appendCall(nil, &c); string(got) != string(want) {
			t.Errorf("call %d:\n got %s\nwant %s", c.ID, got, want)
		}
	}
}
