package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/sessions"
)

func TestSessionsRoute(t *testing.T) {
	m := monitor.New(monitor.Options{DisableSystem: true})
	tr := sessions.New(m, sessions.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Start(ctx, m, Options{Addr: "127.0.0.1:0", Sessions: tr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = s.Wait() })
	base := "http://" + s.Addr()
	at := time.Now().UTC().Truncate(time.Millisecond) // recent: a session idle for 30 min is over
	claude := monitor.ClientInfo{Name: "claude-code", Version: "2.1.0"}
	for _, c := range []monitor.Call{
		{Method: "initialize", Session: "s1", Protocol: "2025-11-25", Duration: time.Millisecond},
		{Method: "tools/call", Tool: "search", Session: "s1", Duration: 8 * time.Millisecond, ResponseBytes: 300, ResponseTokens: 70},
		{Method: "tools/call", Tool: "search", Session: "s1", Duration: 9 * time.Millisecond, ErrorType: monitor.ErrorTypeTool},
		{Method: "initialize", Session: "s2", Duration: time.Millisecond},
	} {
		c.Start, c.Client, c.Transport = at, claude, monitor.TransportHTTP
		m.RecordCall(c)
	}
	tr.End(monitor.TransportHTTP, "s2", sessions.EndClosed)

	res, body := get(t, base+"/api/sessions")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d %s", res.StatusCode, body)
	}
	var got struct {
		Sessions []map[string]any `json:"sessions"`
		Clients  []map[string]any `json:"clients"`
		Missed   *float64         `json:"missed_calls"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Sessions) != 2 || got.Missed == nil || *got.Missed != 0 {
		t.Fatalf("%s", body)
	}
	s1, s2 := got.Sessions[0], got.Sessions[1]
	check := func(name string, s map[string]any, key string, want any) {
		t.Helper()
		if b, _ := json.Marshal(s[key]); string(b) != want {
			t.Errorf("%s: %s = %s, want %s", name, key, b, want)
		}
	}
	check("s1", s1, "id", `"s1"`)
	check("s1", s1, "client", `{"name":"claude-code","version":"2.1.0"}`)
	check("s1", s1, "protocol_version", `"2025-11-25"`)
	check("s1", s1, "started", `"`+at.Format(monitor.TimeFormat)+`"`)
	check("s1", s1, "ended", `null`)
	check("s1", s1, "calls", `3`)
	check("s1", s1, "errors", `1`)
	check("s1", s1, "request_bytes", `null`) // never measured: null, not 0
	check("s1", s1, "response_bytes", `300`)
	check("s1", s1, "response_tokens", `70`)
	check("s1", s1, "tools", `{"search":{"calls":2,"errors":1}}`)
	check("s2", s2, "id", `"s2"`)
	check("s2", s2, "end_reason", `"closed"`)
	if s2["ended"] == nil {
		t.Errorf("s2 not ended: %v", s2)
	}
	if len(got.Clients) != 1 || got.Clients[0]["sessions"] != 2.0 || got.Clients[0]["live_sessions"] != 1.0 {
		t.Errorf("clients %v", got.Clients)
	}
	if res, body := get(t, base+"/api/sessions?state=live"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown parameter: HTTP %d %s", res.StatusCode, body)
	}
}
