package dashboard_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/mcp-pba-tunnel/pbatunnel/capture"
	"github.com/mcp-pba-tunnel/pbatunnel/dashboard"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/sessions"
	"github.com/mcp-pba-tunnel/pbatunnel/telemetry"
)

// The sessions of the browser env: two of claude-code (beta ended), one of
// cursor.
const (
	sessAlpha = "ALPHAJXDNXFQRMBUPNF5NLHTZAK"
	sessBeta  = "BETA7Q2WLKV3M5D6PZRC4HYT8NE"
	sessGamma = "GAMMAQX9T2B7VRN4KD5MLW3HJPS"
)

// hostileError is a failure message that runs script if the page ever
// renders it as markup.
const hostileError = `<script>alert(2)</script><img src=y onerror=alert(3)> bad "params" & more`

var (
	claude    = monitor.ClientInfo{Name: "claude-code", Version: "2.1.0"}
	claudeOld = monitor.ClientInfo{Name: "claude-code", Version: "2.0.9"}
	cursor    = monitor.ClientInfo{Name: "cursor", Version: "1.4.2"}
)

// recordEnvCalls records the env's MCP calls: every kind of outcome, sizes
// and tokens measured on some calls only, and one session ended. Its tools
// are the four of the Tools tab, with the counts its tests expect.
func recordEnvCalls(m *monitor.Monitor, tracker *sessions.Tracker) {
	type call struct {
		session string
		client  monitor.ClientInfo
		method  string
		tool    string
		ms      int
		errType string
		err     string
		in, out int64
		tokens  int64
		proto   string
		server  bool
		traced  bool
	}
	t0 := time.Now().Add(-2 * time.Minute)
	i := 0
	record := func(c call) {
		i++
		id := m.RecordCall(monitor.Call{
			Start: t0.Add(time.Duration(i) * time.Second), Duration: time.Duration(c.ms)*time.Millisecond + 250*time.Microsecond,
			Method: c.method, Tool: c.tool, FromServer: c.server, Session: c.session, Client: c.client, Protocol: c.proto,
			Transport: monitor.TransportHTTP, ErrorType: c.errType, Error: c.err,
			RequestBytes: c.in, ResponseBytes: c.out, ResponseTokens: c.tokens,
			TraceID: traceOf(c.traced),
		})
		// Token counts reach a tool's figures as the counter delivers them,
		// after the call; its size is already in them (RecordCall), so 0
		// bytes here.
		if c.tool != "" && c.tokens > 0 {
			m.RecordResponse(id, c.tool, 0, c.tokens)
		}
	}
	const tc = monitor.MethodToolsCall
	for _, c := range []call{
		{session: sessAlpha, client: claude, method: "initialize", ms: 2, in: 180, out: 420, proto: "2025-11-25"},
		{session: sessAlpha, client: claude, method: "tools/list", ms: 3, out: 2048},
		{session: sessAlpha, client: claude, method: tc, tool: "enhanced_memory", ms: 20, in: 120, out: 4096, tokens: 900},
		{session: sessAlpha, client: claude, method: tc, tool: "enhanced_memory", ms: 21, in: 130, out: 300, tokens: 70},
		{session: sessAlpha, client: claude, method: tc, tool: "code_analysis", ms: 150, in: 90, out: 160, tokens: 40,
			errType: monitor.ErrorTypeTool, err: "file not found: /srv/app/main.go"},
		{session: sessAlpha, client: claude, method: tc, tool: "flaky_tool", ms: 40, in: 75, errType: "-32602", err: hostileError, traced: true},

		{session: sessBeta, client: claudeOld, method: "initialize", ms: 2, out: 410, proto: "2025-06-18"},
		{session: sessBeta, client: claudeOld, method: tc, tool: "enhanced_memory", ms: 22, out: 512},
		{session: sessBeta, client: claudeOld, method: tc, tool: "enhanced_memory", ms: 23, out: 640},
		{session: sessBeta, client: claudeOld, method: "resources/read", ms: 30, errType: "upstream_error", err: "upstream: connection reset by peer"},
	} {
		record(c)
	}
	tracker.End(monitor.TransportHTTP, sessBeta, sessions.EndClosed)
	// OpenTelemetry export has been losing spans.
	m.Counter(telemetry.CounterSpansExported).Add(1234)
	m.Counter(telemetry.CounterSpansDropped).Add(3)
	for _, c := range []call{
		{session: sessGamma, client: cursor, method: "initialize", ms: 3, in: 200, out: 400, proto: "2025-11-25"},
		{session: sessGamma, client: cursor, method: tc, tool: "code_analysis", ms: 151, in: 100, out: 900},
		{session: sessGamma, client: cursor, method: tc, tool: "code_analysis", ms: 152, in: 100, out: 950},
		{session: sessGamma, client: cursor, method: tc, tool: "flaky_tool", ms: 41, in: 80, errType: monitor.ErrorTypeCancelled, err: "context canceled"},
		{session: sessGamma, client: cursor, method: tc, tool: hostile, ms: 1, in: 60, out: 64},
		{session: sessGamma, client: cursor, method: "ping", ms: 5000, errType: "no_response", err: "the response stream ended without an answer"},
		{session: sessGamma, client: cursor, method: "prompts/get", ms: 12, in: 70, errType: "upstream_exit", err: "the server exited with status 1"},
		{session: sessGamma, client: cursor, method: "completion/complete", ms: 4, in: 90, errType: "error", err: "boom"},
		{session: sessGamma, client: cursor, method: "roots/list", ms: 6, out: 88, server: true},
		{session: sessGamma, client: cursor, method: tc, tool: "enhanced_memory", ms: 24, in: 110, out: 700},
	} {
		record(c)
	}
}

// The env's traced call's trace, and where the page links it.
const (
	envTraceID  = "0af7651916cd43dd8448eb211c80319c"
	envTraceURL = "http://jaeger.example:16686/trace/{trace_id}"
)

func traceOf(traced bool) (id [16]byte) {
	if traced {
		_, _ = hex.Decode(id[:], []byte(envTraceID))
	}
	return id
}

// apiCall is a call of /api/calls.
type apiCall struct {
	ID        uint64 `json:"id"`
	SessionID string `json:"session_id"`
	Client    struct {
		Name, Version string
	} `json:"client"`
	Method         string `json:"method"`
	Tool           string `json:"tool"`
	Outcome        string `json:"outcome"`
	Error          string `json:"error"`
	RequestBytes   *int64 `json:"request_bytes"`
	ResponseBytes  *int64 `json:"response_bytes"`
	ResponseTokens *int64 `json:"response_tokens"`
}

// apiCalls is the first page of /api/calls with the query q.
func apiCalls(t *testing.T, base string, q url.Values) []apiCall {
	t.Helper()
	var res struct {
		Calls []apiCall `json:"calls"`
	}
	getJSON(t, base+"/api/calls?"+q.Encode(), &res)
	return res.Calls
}

func callIDs(calls []apiCall) []uint64 {
	ids := make([]uint64, len(calls))
	for i, c := range calls {
		ids[i] = c.ID
	}
	return ids
}

// JavaScript expressions of the Calls tab.
const (
	jsCallRows   = `[...document.querySelectorAll('#calls-table tbody tr')]`
	jsCallIDs    = jsCallRows + `.map(tr => Number(tr.dataset.id))`
	jsCallsShown = `document.querySelectorAll('#calls-table tbody tr').length > 0 &&
		document.querySelectorAll('#sessions-table tbody tr').length > 0`
	jsCallsIdle = `document.querySelector('#calls-panel').dataset.loading === 'false'`
)

// jsCallRow is the row of call id.
func jsCallRow(id uint64) string {
	return fmt.Sprintf(`document.querySelector('#calls-table tbody tr[data-id="%d"]')`, id)
}

// waitCalls waits until the log shows exactly the calls /api/calls gives
// for q, in its order, and returns them. No call is recorded meanwhile.
func waitCalls(t *testing.T, tb *tab, base, what string, q url.Values) []apiCall {
	t.Helper()
	calls := apiCalls(t, base, q)
	if len(calls) == 0 {
		t.Fatalf("%s: /api/calls?%s has no call; the test needs some", what, q.Encode())
	}
	tb.wait(what, fmt.Sprintf(`JSON.stringify(%s) === %s && %s`, jsCallIDs, jsString(jsonIDs(callIDs(calls))), jsCallsIdle))
	return calls
}

func jsonIDs(ids []uint64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatUint(id, 10)
	}
	return "[" + strings.Join(s, ",") + "]"
}

// setFilter sets the Calls filter whose name is /api/calls' parameter, as
// a person picking a value would.
func setFilter(tb *tab, name, value string) {
	tb.t.Helper()
	eval[bool](tb, fmt.Sprintf(`(() => { const f = document.querySelector('#calls-filter-%s'); f.value = %s;
		f.dispatchEvent(new Event('change')); return true; })()`, name, jsString(value)))
}

// recordLive records one call now, in the env's session and client.
func recordLive(m *monitor.Monitor, session string, client monitor.ClientInfo, method, tool string) uint64 {
	return m.RecordCall(monitor.Call{
		Start: time.Now(), Duration: 3 * time.Millisecond, Method: method, Tool: tool,
		Session: session, Client: client, Transport: monitor.TransportHTTP, ResponseBytes: 100,
	})
}

// openCalls opens the Calls tab, its markup watched, and waits for the
// log of every call and the live stream.
func openCalls(t *testing.T, b *browser, env *browserEnv, v view) (*tab, []apiCall) {
	t.Helper()
	tb := b.newTab(t, v)
	tb.watchMarkup()
	tb.navigate(env.base + "/#calls")
	tb.wait("the live stream", jsLive)
	calls := waitCalls(t, tb, env.base, "the calls", url.Values{})
	return tb, calls
}

// noMarkup fails the test if the page rendered server text as markup.
func noMarkup(t *testing.T, tb *tab) {
	t.Helper()
	elems, alerts := tb.markupSeen()
	if len(elems) > 0 {
		t.Errorf("server text was rendered as markup: %q", elems)
	}
	if alerts > 0 {
		t.Errorf("window.alert was called %d times", alerts)
	}
	if n := eval[int](tb, `document.querySelectorAll('img, iframe, object, embed').length`); n != 0 {
		t.Errorf("the page has %d img/iframe/object/embed elements", n)
	}
}

// outcomeKinds is how the page must colour each outcome.
func outcomeKind(o string) string {
	switch {
	case o == "ok":
		return "ok"
	case o == "tool_error":
		return "tool"
	case o == "cancelled":
		return "cancelled"
	case strings.HasPrefix(o, "-3"):
		return "protocol"
	case strings.HasPrefix(o, "upstream_"), o == "no_response":
		return "upstream"
	}
	return "error"
}

// testCalls opens the Calls tab: every call, newest first, each field as
// the API has it, the outcomes coloured by kind, the hostile texts as text,
// and a row's detail.
func testCalls(t *testing.T, b *browser, env *browserEnv) {
	tb, calls := openCalls(t, b, env, desktop)
	if len(calls) < 20 {
		t.Fatalf("/api/calls has %d calls, want the env's 20 at least", len(calls))
	}
	for i := 1; i < len(calls); i++ {
		if calls[i].ID >= calls[i-1].ID {
			t.Fatalf("/api/calls is not newest first: %d before %d", calls[i-1].ID, calls[i].ID)
		}
	}
	tb.wait("the count", fmt.Sprintf(`document.querySelector('#calls-count').textContent === %s`,
		jsString(fmt.Sprintf("%d calls shown, newest first", len(calls)))))

	type row struct {
		ID                                                                 uint64
		Client, Session, SessionTitle, Method, Tool, Outcome, Kind, Colour string
		In, Out, Tokens, Error, ErrorTitle                                 string
	}
	rows := eval[[]row](tb, jsCallRows+`.map(tr => { const c = tr.children; const o = c[6].querySelector('.outcome'); return {
		ID: Number(tr.dataset.id), Client: c[1].textContent, Session: c[2].textContent, SessionTitle: c[2].title,
		Method: c[3].textContent, Tool: c[4].textContent, Outcome: o.textContent, Kind: o.dataset.kind,
		Colour: getComputedStyle(o).color + ' on ' + getComputedStyle(o).backgroundColor,
		In: c[7].textContent, Out: c[8].textContent, Tokens: c[9].textContent, Error: c[10].textContent, ErrorTitle: c[10].title}; })`)
	if len(rows) != len(calls) {
		t.Fatalf("%d rows for %d calls", len(rows), len(calls))
	}
	measured := func(v *int64, shown string) string {
		if v == nil {
			if shown != "—" {
				return fmt.Sprintf("%q for an unmeasured figure, want —", shown)
			}
			return ""
		}
		if shown == "—" || shown == "0" || shown == "0 B" {
			return fmt.Sprintf("%q for %d", shown, *v)
		}
		return ""
	}
	colours := map[string]string{} // kind -> colour
	for i, c := range calls {
		r := rows[i]
		wantClient := c.Client.Name + " " + c.Client.Version
		wantSession := c.SessionID[:8] + "…"
		switch {
		case r.ID != c.ID:
			t.Errorf("row %d is call %d, want %d", i, r.ID, c.ID)
		case r.Client != wantClient || r.Session != wantSession || r.SessionTitle != "session "+c.SessionID:
			t.Errorf("call %d: client %q, session %q (%q); want %q, %q", c.ID, r.Client, r.Session, r.SessionTitle, wantClient, wantSession)
		case !strings.HasPrefix(r.Method, c.Method) || r.Tool != c.Tool:
			t.Errorf("call %d: method %q, tool %q; want %q, %q", c.ID, r.Method, r.Tool, c.Method, c.Tool)
		case r.Outcome != c.Outcome || r.Kind != outcomeKind(c.Outcome):
			t.Errorf("call %d: outcome %q of kind %q; want %q of kind %q", c.ID, r.Outcome, r.Kind, c.Outcome, outcomeKind(c.Outcome))
		case r.Error != c.Error || r.ErrorTitle != c.Error:
			t.Errorf("call %d: error %q (title %q), want %q", c.ID, r.Error, r.ErrorTitle, c.Error)
		}
		for _, bad := range []string{measured(c.RequestBytes, r.In), measured(c.ResponseBytes, r.Out), measured(c.ResponseTokens, r.Tokens)} {
			if bad != "" {
				t.Errorf("call %d: %s", c.ID, bad)
			}
		}
		colours[r.Kind] = r.Colour
	}
	// Each kind of outcome has a colour of its own.
	kinds := []string{"ok", "tool", "protocol", "cancelled", "upstream", "error"}
	for i, k := range kinds {
		if colours[k] == "" {
			t.Errorf("no call of outcome kind %s: the env must record every kind", k)
		}
		for _, k2 := range kinds[:i] {
			if k2 != "error" && k != "error" && colours[k] == colours[k2] {
				t.Errorf("outcome kinds %s and %s have the same colours, %s", k, k2, colours[k])
			}
		}
	}

	// What became of the exported spans, flagged since some were lost.
	tb.wait("the export line", `document.querySelector('#calls-otel').textContent.startsWith('OpenTelemetry export (since start): 1,234 spans sent, 3 dropped')`)
	if got := eval[string](tb, `document.querySelector('#calls-otel').className`); got != "notice" {
		t.Errorf("the export line with spans dropped is %q, want a notice", got)
	}

	// The hostile tool name and error message are text.
	noMarkup(t, tb)
	tb.wait("the hostile tool as text", fmt.Sprintf(`%s.some(tr => tr.children[4].textContent === %s)`, jsCallRows, jsString(hostile)))
	tb.wait("the hostile error as text", fmt.Sprintf(`%s.some(tr => tr.children[10].textContent === %s)`, jsCallRows, jsString(hostileError)))
	noMarkup(t, tb)
	tb.screenshot("calls-light")

	// A row opens the call's detail: every field, and no payload.
	var bad apiCall
	for _, c := range calls {
		if c.Error == hostileError {
			bad = c
		}
	}
	tb.click(fmt.Sprintf(`#calls-table tbody tr[data-id="%d"] td.time`, bad.ID))
	tb.wait("the call's detail", `document.querySelector('#call-detail').open`)
	tb.wait("the payload's state", `document.querySelector('#call-detail-payload').textContent.includes('payload capture is off')`)
	fields := eval[map[string]string](tb, `Object.fromEntries([...document.querySelectorAll('#call-detail-fields dt')].map(dt =>
		[dt.textContent, dt.nextElementSibling.textContent]))`)
	want := map[string]string{
		"Method": "tools/call", "Tool": "flaky_tool", "Error": hostileError, "Client": "claude-code 2.1.0",
		"Session": sessAlpha, "Transport": "http", "Response size": "not measured", "Response tokens": "not counted",
	}
	for k, v := range want {
		if fields[k] != v {
			t.Errorf("detail %s = %q, want %q", k, fields[k], v)
		}
	}
	for _, k := range []string{"Time", "Duration", "Outcome", "Request size", "Direction"} {
		if fields[k] == "" {
			t.Errorf("the detail has no %s: %q", k, fields)
		}
	}
	// The traced call links to its trace where --trace-url-template says.
	if fields["Trace"] != envTraceID {
		t.Errorf("detail Trace = %q, want %s", fields["Trace"], envTraceID)
	}
	if href := eval[string](tb, `document.querySelector('#call-detail-trace').href`); href != strings.ReplaceAll(envTraceURL, "{trace_id}", envTraceID) {
		t.Errorf("trace link %q", href)
	}
	if !strings.Contains(fields["Outcome"], "-32602") || !strings.Contains(fields["Outcome"], "invalid params") {
		t.Errorf("detail Outcome = %q, want the code and its meaning", fields["Outcome"])
	}
	if !strings.Contains(fields["Payload"], "payload capture is off") {
		t.Errorf("detail Payload = %q, want it to say payload capture is off", fields["Payload"])
	}
	if got := eval[string](tb, `document.querySelector('#call-detail-title').textContent`); got != fmt.Sprintf("Call %d", bad.ID) {
		t.Errorf("detail title %q", got)
	}
	noMarkup(t, tb)
	tb.screenshot("calls-detail-light")
	tb.click(`#call-detail-close`)
	tb.wait("the detail closed", `!document.querySelector('#call-detail').open`)

	// A call without a tool offers no tool filter, and nothing else.
	var init apiCall
	for _, c := range calls {
		if c.Method == "initialize" && c.SessionID == sessGamma {
			init = c
		}
	}
	tb.click(fmt.Sprintf(`#calls-table tbody tr[data-id="%d"] td.time`, init.ID))
	tb.wait("the initialize call's detail", fmt.Sprintf(`document.querySelector('#call-detail').open &&
		document.querySelector('#call-detail-title').textContent === 'Call %d'`, init.ID))
	if got := eval[string](tb, `document.querySelector('#call-detail-actions').textContent`); got != "Calls of this sessionCalls of this client" {
		t.Errorf("the initialize call's detail offers %q", got)
	}
	tb.click(`#call-detail-close`)
	tb.wait("the detail closed", `!document.querySelector('#call-detail').open`)

	// The detail's buttons filter the log.
	tb.click(fmt.Sprintf(`#calls-table tbody tr[data-id="%d"] td.time`, bad.ID))
	tb.wait("the call's detail", `document.querySelector('#call-detail').open`)
	if got := eval[string](tb, `document.querySelector('#call-detail-actions button[data-filter="tool"]').textContent`); got != "Calls of this tool" {
		t.Errorf("the detail's tool button says %q", got)
	}
	tb.click(`#call-detail-actions button[data-filter="tool"]`)
	tb.wait("the detail closed", `!document.querySelector('#call-detail').open`)
	waitCalls(t, tb, env.base, "the calls of flaky_tool", url.Values{"tool": {"flaky_tool"}})

	// The tab list reaches Calls with the arrow keys, and says so in the hash.
	tb.click(`#tab-tools`)
	tb.wait("the Tools tab", `location.hash === '#tools' && !document.querySelector('#panel-tools').hidden`)
	tb.do(chromedp.KeyEvent(kb.ArrowRight))
	tb.wait("the Calls tab by keyboard", `location.hash === '#calls' && document.activeElement.id === 'tab-calls' &&
		!document.querySelector('#panel-calls').hidden && document.querySelector('#tab-calls').getAttribute('aria-selected') === 'true'`)
	tb.do(chromedp.KeyEvent(kb.ArrowRight))
	tb.wait("the next tab", `location.hash === '#performance' && document.querySelector('#panel-calls').hidden`)
	tb.do(chromedp.KeyEvent(kb.ArrowLeft))
	tb.wait("back to Calls", `location.hash === '#calls' && !document.querySelector('#panel-calls').hidden`)
}

// testCallsLive records a call while the page is open: the stream brings
// it to the top of the log, without a reload or another request.
func testCallsLive(t *testing.T, b *browser, env *browserEnv) {
	tb, _ := openCalls(t, b, env, desktop)
	eval[bool](tb, `window.sameDocument = true`)
	const jsFetches = `performance.getEntriesByType('resource').filter(e => e.name.includes('/api/calls')).length`
	fetches := eval[int](tb, jsFetches)

	id := recordLive(env.m, sessGamma, cursor, monitor.MethodToolsCall, "enhanced_memory")
	tb.wait("the new call on top", fmt.Sprintf(`%s[0] === %d`, jsCallIDs, id))
	row := eval[[]string](tb, fmt.Sprintf(`[...%s.children].map(td => td.textContent)`, jsCallRow(id)))
	if row[1] != "cursor 1.4.2" || row[3] != "tools/call" || row[4] != "enhanced_memory" || row[6] != "ok" || row[8] != "100 B" || row[9] != "—" {
		t.Errorf("the new call's row is %q", row)
	}
	if !eval[bool](tb, `window.sameDocument === true`) {
		t.Error("the page reloaded to show the new call")
	}
	if n := eval[int](tb, jsFetches); n != fetches {
		t.Errorf("the page asked /api/calls %d more times; the stream should have brought the call", n-fetches)
	}
	// The log holds each call once.
	waitCalls(t, tb, env.base, "the calls with the new one", url.Values{})
}

// testCallsFilters narrows the log with each filter: the rows are those the
// API gives for the same query, and live calls pass the same filter.
func testCallsFilters(t *testing.T, b *browser, env *browserEnv) {
	tb, all := openCalls(t, b, env, desktop)

	cases := []struct{ name, value string }{
		{"tool", "code_analysis"},
		{"outcome", "failed"},
		{"client", "cursor"},
		{"method", "initialize"},
		{"min_ms", "100"},
		{"outcome", "-32602"},
		{"session", sessBeta},
	}
	for _, c := range cases {
		setFilter(tb, c.name, c.value)
		got := waitCalls(t, tb, env.base, c.name+"="+c.value, url.Values{c.name: {c.value}})
		if len(got) >= len(all) {
			t.Errorf("%s=%s leaves %d of %d calls; the test wants a filter that narrows", c.name, c.value, len(got), len(all))
		}
		if !eval[bool](tb, fmt.Sprintf(`document.querySelector('#calls-filter-%s').closest('label').classList.contains('on')`, c.name)) {
			t.Errorf("the %s filter does not show that it is on", c.name)
		}
		setFilter(tb, c.name, "")
		waitCalls(t, tb, env.base, "all calls again", url.Values{})
	}

	// Typing text filters once the typing stops.
	tb.click(`#calls-filter-q`)
	tb.do(chromedp.SendKeys(chromedp.CSS(`#calls-filter-q`), "NOT FOUND"))
	got := waitCalls(t, tb, env.base, "the calls with 'not found'", url.Values{"q": {"NOT FOUND"}})
	if len(got) != 1 || got[0].Tool != "code_analysis" {
		t.Errorf("q=not found gives %d calls", len(got))
	}
	// Filters add up.
	setFilter(tb, "q", "")
	setFilter(tb, "client", "cursor")
	setFilter(tb, "outcome", "failed")
	both := waitCalls(t, tb, env.base, "cursor's failures", url.Values{"client": {"cursor"}, "outcome": {"failed"}})
	for _, c := range both {
		if c.Client.Name != "cursor" || c.Outcome == "ok" {
			t.Errorf("cursor's failures include %+v", c)
		}
	}
	tb.screenshot("calls-filtered-light")
	// The address names the filters: a link opens the same view, with an
	// outcome the new page has not seen yet selected all the same.
	link := eval[string](tb, `location.href`)
	if !strings.Contains(link, "#calls?") || !strings.Contains(link, "client=cursor") || !strings.Contains(link, "outcome=failed") {
		t.Errorf("the address %q does not name the filters", link)
	}
	tb2 := b.newTab(t, desktop)
	tb2.navigate(env.base + "/#calls?outcome=-32602&client=claude-code")
	tb2.wait("the live stream", jsLive)
	linked := waitCalls(t, tb2, env.base, "the linked view", url.Values{"outcome": {"-32602"}, "client": {"claude-code"}})
	if len(linked) != 1 || eval[string](tb2, `document.querySelector('#calls-filter-outcome').value`) != "-32602" ||
		eval[string](tb2, `document.querySelector('#calls-filter-client').value`) != "claude-code" {
		t.Errorf("the link shows %d calls, outcome filter %q", len(linked), eval[string](tb2, `document.querySelector('#calls-filter-outcome').value`))
	}
	tb.click(`#calls-clear`)
	waitCalls(t, tb, env.base, "all calls after clearing", url.Values{})
	if !eval[bool](tb, `document.querySelector('#calls-clear').hidden`) {
		t.Error("Clear filters still shows with no filter on")
	}
	if h := eval[string](tb, `location.hash`); h != "#calls" {
		t.Errorf("with no filter the address ends in %q, want #calls", h)
	}

	// A live call passes the filter as the API's would.
	setFilter(tb, "tool", "code_analysis")
	waitCalls(t, tb, env.base, "the calls of code_analysis", url.Values{"tool": {"code_analysis"}})
	other := recordLive(env.m, sessAlpha, claude, "resources/list", "")
	mine := recordLive(env.m, sessGamma, cursor, monitor.MethodToolsCall, "code_analysis")
	tb.wait("the live call of code_analysis", fmt.Sprintf(`%s[0] === %d`, jsCallIDs, mine))
	if eval[bool](tb, jsCallRow(other)+` !== null`) {
		t.Errorf("call %d (resources/list) shows under the filter tool=code_analysis", other)
	}
	waitCalls(t, tb, env.base, "the calls of code_analysis with the live one", url.Values{"tool": {"code_analysis"}})
}

// testCallsPause pauses the log: new calls are counted, not shown, until
// Resume shows them.
func testCallsPause(t *testing.T, b *browser, env *browserEnv) {
	tb, _ := openCalls(t, b, env, desktop)
	tb.click(`#calls-pause`)
	tb.wait("paused", `document.querySelector('#calls-pause').getAttribute('aria-pressed') === 'true' &&
		document.querySelector('#calls-pause').textContent === 'Resume' && !document.querySelector('#calls-paused').hidden`)
	var ids []uint64
	for range 3 {
		ids = append(ids, recordLive(env.m, sessAlpha, claude, "resources/read", ""))
	}
	tb.wait("the count of held calls", `document.querySelector('#calls-paused').textContent === 'Paused: 3 new calls arrived meanwhile. Resume to show them.'`)
	for _, id := range ids {
		if eval[bool](tb, jsCallRow(id)+` !== null`) {
			t.Errorf("call %d shows while the log is paused", id)
		}
	}
	tb.screenshot("calls-paused-light")
	tb.click(`#calls-pause`)
	tb.wait("resumed", `document.querySelector('#calls-pause').getAttribute('aria-pressed') === 'false' && document.querySelector('#calls-paused').hidden`)
	slices.Reverse(ids)
	tb.wait("the held calls on top", fmt.Sprintf(`JSON.stringify(%s.slice(0, 3)) === %s`, jsCallIDs, jsString(jsonIDs(ids))))
	waitCalls(t, tb, env.base, "every call after resuming", url.Values{})
}

// apiSession is a session of /api/sessions.
type apiSession struct {
	ID        string  `json:"id"`
	Ended     *string `json:"ended"`
	EndReason string  `json:"end_reason"`
	Calls     int     `json:"calls"`
	Errors    int     `json:"errors"`
}

func apiSessions(t *testing.T, base string) []apiSession {
	t.Helper()
	var res struct {
		Sessions []apiSession `json:"sessions"`
	}
	getJSON(t, base+"/api/sessions", &res)
	return res.Sessions
}

// testSessions checks the Sessions view against /api/sessions, its refresh
// as calls arrive, and that a click on a session or a client filters the
// log.
func testSessions(t *testing.T, b *browser, env *browserEnv) {
	tb, _ := openCalls(t, b, env, desktop)
	ss := apiSessions(t, env.base)
	ids := make([]string, len(ss))
	for i, s := range ss {
		ids[i] = s.ID
	}
	// Live sessions first, then the ended one.
	if len(ss) != 3 || ss[2].ID != sessBeta || ss[2].Ended == nil || ss[0].Ended != nil || ss[1].Ended != nil {
		t.Fatalf("/api/sessions has %+v; want alpha and gamma live, then beta ended", ss)
	}
	const jsSessionIDs = `[...document.querySelectorAll('#sessions-table tbody tr')].map(tr => tr.dataset.session)`
	tb.wait("the sessions", fmt.Sprintf(`JSON.stringify(%s) === %s`, jsSessionIDs, jsString(jsArray(ids))))
	type row struct{ Session, State, Client, Transport, Protocol, Calls, Errors, P50, P95, In, Out, Tokens string }
	rows := eval[map[string]row](tb, `Object.fromEntries([...document.querySelectorAll('#sessions-table tbody tr')].map(tr => {
		const c = [...tr.children].map(td => td.textContent); return [tr.dataset.session, {Session: c[0], State: c[1], Client: c[2],
		Transport: c[3], Protocol: c[4], Calls: c[7], Errors: c[8], P50: c[9], P95: c[10], In: c[11], Out: c[12], Tokens: c[13]}]; }))`)
	for _, s := range ss {
		r := rows[s.ID]
		if r.Calls != strconv.Itoa(s.Calls) || r.Errors != strconv.Itoa(s.Errors) {
			t.Errorf("session %s: %s calls, %s errors; the API says %d, %d", s.ID, r.Calls, r.Errors, s.Calls, s.Errors)
		}
		if r.Session != s.ID[:8]+"…" || r.Transport != "http" || r.P50 == "—" || r.P95 == "—" {
			t.Errorf("session %s: %+v", s.ID, r)
		}
	}
	if r := rows[sessBeta]; r.State != "ended: closed" || r.Client != "claude-code 2.0.9" || r.Protocol != "2025-06-18" || r.In != "—" || r.Tokens != "—" {
		t.Errorf("the ended session shows %+v; want ended: closed, its client and protocol, — for what was not measured", r)
	}
	if r := rows[sessAlpha]; r.State != "live" || r.Client != "claude-code 2.1.0" || r.Tokens != "1,010" {
		t.Errorf("session alpha shows %+v", r)
	}
	// Every figure says what it is.
	if n := eval[int](tb, `[...document.querySelectorAll('#sessions-table th, #clients-table th')].filter(th =>
		/^p(50|95)/.test(th.textContent) && !/over the (session|client)'s calls/.test(th.title)).length`); n != 0 {
		t.Errorf("%d percentile headings do not say what they are of", n)
	}
	type client struct{ Name, Versions, Sessions, Calls string }
	clients := eval[[]client](tb, `[...document.querySelectorAll('#clients-table tbody tr')].map(tr => {
		const c = [...tr.children].map(td => td.textContent); return {Name: tr.dataset.client, Versions: c[1], Sessions: c[2], Calls: c[3]}; })`)
	byName := map[string]client{}
	for _, c := range clients {
		byName[c.Name] = c
	}
	if c := byName["claude-code"]; c.Versions != "2.1.0, 2.0.9" && c.Versions != "2.0.9, 2.1.0" || c.Sessions != "1 / 2" {
		t.Errorf("client claude-code shows %+v", c)
	}
	if c := byName["cursor"]; c.Sessions != "1 / 1" {
		t.Errorf("client cursor shows %+v", c)
	}
	noMarkup(t, tb)

	// A click on a session shows its calls only; another click, all calls.
	tb.click(fmt.Sprintf(`#sessions-table tr[data-session=%q]`, sessGamma))
	tb.wait("the session filter", fmt.Sprintf(`document.querySelector('#calls-filter-session').value === %s &&
		document.querySelector('#sessions-table tr.selected')?.dataset.session === %s`, jsString(sessGamma), jsString(sessGamma)))
	waitCalls(t, tb, env.base, "the calls of session gamma", url.Values{"session": {sessGamma}})
	tb.screenshot("calls-session-light")
	tb.click(fmt.Sprintf(`#sessions-table tr[data-session=%q]`, sessGamma))
	tb.wait("no session filter", `document.querySelector('#calls-filter-session').value === '' && !document.querySelector('#sessions-table tr.selected')`)
	waitCalls(t, tb, env.base, "all calls", url.Values{})

	// A click on a client shows its calls.
	tb.click(`#clients-table tr[data-client="claude-code"]`)
	tb.wait("the client filter", `document.querySelector('#calls-filter-client').value === 'claude-code'`)
	waitCalls(t, tb, env.base, "the calls of claude-code", url.Values{"client": {"claude-code"}})
	tb.click(`#calls-clear`)

	// The sessions follow the calls as they arrive. The page asked for
	// them when the tab opened and once more when the stream went live;
	// nothing else asks until a call arrives.
	tb.wait("the sessions asked for twice", `performance.getEntriesByType('resource').filter(e => e.name.endsWith('/api/sessions')).length >= 2`)
	before := 0
	for _, s := range apiSessions(t, env.base) {
		if s.ID == sessAlpha {
			before = s.Calls
		}
	}
	recordLive(env.m, sessAlpha, claude, "resources/read", "")
	tb.wait("session alpha's new call count", fmt.Sprintf(`document.querySelector('#sessions-table tr[data-session=%q]').children[7].textContent === '%d'`,
		sessAlpha, before+1))
}

// testCallsBurst records calls faster than the stream sends them, on a
// server of its own: the log keeps at most 500 rows, says how many calls
// the stream left out, reloads them, and pages older ones in.
func testCallsBurst(t *testing.T, b *browser) {
	ctx, cancel := context.WithCancel(context.Background())
	m := monitor.New(monitor.Options{DisableSystem: true})
	tracker := sessions.New(m, sessions.Options{})
	m.Sample(ctx)
	base := serveDashboard(t, ctx, cancel, m, dashboard.Options{Sessions: tracker})
	burst := monitor.ClientInfo{Name: "burst", Version: "1"}
	record := func(n int) (last uint64) {
		for range n {
			last = recordLive(m, "BURSTSESSION", burst, "ping", "")
		}
		return last
	}

	tb := b.open(t, base+"/#calls", desktop)
	tb.wait("the live stream", jsLive)
	tb.wait("the empty log", `document.querySelector('#calls-empty').textContent === 'No MCP call has been recorded yet.' &&
		!document.querySelector('#calls-empty').hidden && `+jsCallsIdle)

	// 600 calls in batches the stream sends whole: the oldest rows go.
	var last uint64
	for range 3 {
		last = record(150)
		tb.wait("the batch on top", fmt.Sprintf(`%s[0] === %d`, jsCallIDs, last))
	}
	tb.wait("the log at its cap", fmt.Sprintf(`%s.length === 450`, jsCallRows))
	last = record(150)
	tb.wait("the log at its cap", fmt.Sprintf(`%s[0] === %d && %s.length === 500`, jsCallIDs, last, jsCallRows))
	if !eval[bool](tb, `!document.querySelector('#calls-older').hidden`) {
		t.Error("Load older is hidden, but the log dropped older calls")
	}

	// A burst the stream cannot send whole.
	last = record(1000)
	tb.wait("the note on calls not streamed", `!document.querySelector('#calls-skipped').hidden &&
		/^[\d,]+ calls arrived too fast for the live stream and are missing from this list\.$/.test(document.querySelector('#calls-skipped-text').textContent)`)
	tb.wait("the newest on top", fmt.Sprintf(`%s[0] === %d`, jsCallIDs, last))
	if n := eval[int](tb, jsCallRows+`.length`); n > 500 {
		t.Errorf("the log holds %d rows, more than 500", n)
	}
	tb.screenshot("calls-skipped-light")
	tb.click(`#calls-reload`)
	contiguous := func(from uint64, n int) string {
		ids := make([]uint64, n)
		for i := range ids {
			ids[i] = from - uint64(i)
		}
		return jsString(jsonIDs(ids))
	}
	tb.wait("every call after the reload", fmt.Sprintf(`JSON.stringify(%s) === %s && document.querySelector('#calls-skipped').hidden`,
		jsCallIDs, contiguous(last, 500)))

	// Load older pages further back, and keeps what it brought.
	tb.click(`#calls-older`)
	tb.wait("the older calls", fmt.Sprintf(`JSON.stringify(%s) === %s`, jsCallIDs, contiguous(last, 600)))
	last = record(5)
	tb.wait("the new calls kept with the older ones", fmt.Sprintf(`JSON.stringify(%s) === %s`, jsCallIDs, contiguous(last, 600)))
}

// testOutcomeContrast checks that each outcome's text stands out from its
// chip.
func testOutcomeContrast(t *testing.T, tb *tab) {
	t.Helper()
	ratios := eval[map[string]float64](tb, `(() => {
		const lum = (c) => { const [r, g, b] = c.match(/[\d.]+/g).slice(0, 3).map(Number).map(v => { v /= 255;
			return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
		const out = {};
		for (const o of document.querySelectorAll('#calls-table .outcome')) {
			const s = getComputedStyle(o);
			const [a, b] = [lum(s.color), lum(s.backgroundColor)].sort((x, y) => y - x);
			out[o.dataset.kind] = (a + 0.05) / (b + 0.05);
		}
		return out;
	})()`)
	for kind, r := range ratios {
		if r < 3 {
			t.Errorf("outcome %s: contrast %.2f against its chip, want 3 at least", kind, r)
		}
	}
}

// testPhoneCalls checks the Calls tab on a phone: each call fits the
// screen without scrolling sideways, and so does its detail.
func testPhoneCalls(t *testing.T, tb *tab, name string) {
	t.Helper()
	if !eval[bool](tb, jsCallRows+`.every(tr => tr.scrollWidth <= tr.clientWidth + 1 && tr.getBoundingClientRect().right <= window.innerWidth)`) {
		t.Error("a call's row is wider than the phone's screen")
	}
	tb.click(`#calls-table tbody tr:first-child`)
	tb.wait("the call's detail", `document.querySelector('#call-detail').open`)
	if !eval[bool](tb, `(() => { const r = document.querySelector('#call-detail').getBoundingClientRect();
		return r.left >= 0 && r.right <= window.innerWidth; })()`) {
		t.Error("the call's detail is wider than the phone's screen")
	}
	tb.screenshot(name + "-calls-detail")
	tb.click(`#call-detail-close`)
	tb.wait("the detail closed", `!document.querySelector('#call-detail').open`)

	// The sessions fold away and open again.
	if !eval[bool](tb, `document.querySelector('#sessions-panel').open`) {
		tb.click(`#sessions-panel > summary`)
		tb.wait("the sessions open", `document.querySelector('#sessions-panel').open`)
	}
	if !eval[bool](tb, jsNoOverflow) {
		t.Error("the open sessions overflow the phone's screen sideways")
	}
	tb.screenshot(name + "-calls-sessions")
	tb.click(`#sessions-panel > summary`)
	tb.wait("the sessions folded", `!document.querySelector('#sessions-panel').open`)
}

// testCallsPayload serves calls whose payloads were captured: the detail
// shows them redacted and as text, says when one was cut, and when one is
// not kept.
func testCallsPayload(t *testing.T, b *browser) {
	ctx, cancel := context.WithCancel(context.Background())
	m := monitor.New(monitor.Options{DisableSystem: true})
	store := capture.New(capture.Options{MaxBytes: 200})
	m.Sample(ctx)
	base := serveDashboard(t, ctx, cancel, m, dashboard.Options{Payloads: store})
	const secret = "sk-do-not-show-123"
	kept := recordLive(m, sessAlpha, claude, monitor.MethodToolsCall, "search_nodes")
	store.Keep(kept, []byte(`{"query":`+jsString(hostile)+`,"api_key":"`+secret+`"}`), []byte(`{"content":[{"type":"text","text":"found 1"}]}`))
	cut := recordLive(m, sessAlpha, claude, monitor.MethodToolsCall, "read_graph")
	store.Keep(cut, []byte(`{}`), []byte(`{"content":[{"type":"text","text":"`+strings.Repeat("node ", 100)+`"}]}`))
	dropped := recordLive(m, sessAlpha, claude, monitor.MethodToolsCall, "read_graph")

	tb := b.newTab(t, desktop)
	tb.watchMarkup()
	tb.navigate(base + "/#calls")
	tb.wait("the calls", fmt.Sprintf(`%s.length === 3`, jsCallRows))

	const jsParts = `[...document.querySelectorAll('#call-detail-payload .part')].map(p => p.textContent)`
	tb.click(fmt.Sprintf(`#calls-table tbody tr[data-id="%d"] td.time`, kept))
	tb.wait("the payload", jsParts+`.length === 2`)
	parts := eval[[]string](tb, jsParts)
	if !strings.HasPrefix(parts[0], "Arguments") || !strings.Contains(parts[0], `"query": "`+hostile+`"`) ||
		!strings.Contains(parts[0], `"api_key": "[redacted]"`) || strings.Contains(parts[0], secret) {
		t.Errorf("the arguments show as %q; want the query as text and the key redacted", parts[0])
	}
	if !strings.HasPrefix(parts[1], "Result") || !strings.Contains(parts[1], `"text": "found 1"`) {
		t.Errorf("the result shows as %q", parts[1])
	}
	noMarkup(t, tb)
	tb.screenshot("calls-payload-light")
	tb.click(`#call-detail-close`)

	tb.click(fmt.Sprintf(`#calls-table tbody tr[data-id="%d"] td.time`, cut))
	tb.wait("the cut result", jsParts+`.length === 2 && /^cut: the first 200 of [\d,]+ bytes/.test(document.querySelector('#call-detail-payload .part:nth-of-type(2) p').textContent)`)
	tb.click(`#call-detail-close`)

	tb.click(fmt.Sprintf(`#calls-table tbody tr[data-id="%d"] td.time`, dropped))
	tb.wait("the payload not kept", `document.querySelector('#call-detail-payload').textContent.startsWith('Not kept')`)
}
