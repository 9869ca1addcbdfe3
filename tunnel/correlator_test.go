package tunnel

import (
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/telemetry"
)

// msg decodes one message for the correlator.
func msg(t *testing.T, line string) *message {
	t.Helper()
	msgs, err := decode([]byte(line), nil)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("decode(%s) = %v, %v", line, msgs, err)
	}
	return &msgs[0]
}

func newTestCorrelator(t *testing.T) (*correlator[struct{}], *monitor.Monitor) {
	t.Helper()
	m := monitor.New(monitor.Options{DisableSystem: true})
	mt, err := newMeters(m, monitor.TransportStdio)
	if err != nil {
		t.Fatal(err)
	}
	return newCorrelator[struct{}](mt, Observers{}), m
}

// The verdicts the transports act on: an answer no one waits for is
// dropped only when it is alone on its line, and the answer to the
// tunnel's own replay is handed back, never recorded.
func TestCorrelatorVerdicts(t *testing.T) {
	co, m := newTestCorrelator(t)
	co.cancellation = true
	var inits int
	co.initialized = func(*message, *call[struct{}]) { inits++ }
	h := hop[struct{}]{now: time.Now(), requests: &co.c2s, alone: true}

	co.fromClient(msg(t, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}`), &h)
	co.fromClient(msg(t, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}`), &h)
	if v := co.fromServer(msg(t, `{"jsonrpc":"2.0","id":1,"result":{}}`), &h); v != dropLine {
		t.Errorf("late answer to a cancelled request, alone: verdict %d, want dropLine", v)
	}

	co.fromClient(msg(t, `{"jsonrpc":"2.0","id":2,"method":"ping"}`), &h)
	co.fromClient(msg(t, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2}}`), &h)
	notAlone := h
	notAlone.alone = false
	if v := co.fromServer(msg(t, `{"jsonrpc":"2.0","id":2,"result":{}}`), &notAlone); v != pass {
		t.Errorf("late answer in a batch: verdict %d, want pass", v)
	}

	co.c2s.add([]byte("0"), call[struct{}]{method: "initialize", start: time.Now(), state: replaying})
	if v := co.fromServer(msg(t, `{"jsonrpc":"2.0","id":0,"result":{"serverInfo":{"name":"s","version":"1"}}}`), &h); v != replayAnswered {
		t.Errorf("answer to the replay: verdict %d, want replayAnswered", v)
	}
	if inits != 1 {
		t.Errorf("initialized called %d times, want 1", inits)
	}

	co.fromServer(msg(t, `{"jsonrpc":"2.0","id":"s1","method":"roots/list"}`), &h)
	co.s2c.orphan(func(call[struct{}]) bool { return true }, func(call[struct{}]) {})
	if v := co.fromClient(msg(t, `{"jsonrpc":"2.0","id":"s1","result":{}}`), &h); v != dropLine {
		t.Errorf("answer to a gone server's request: verdict %d, want dropLine", v)
	}

	// Recorded: the two cancelled requests and nothing else.
	got := m.RecentCalls(0, 10)
	if len(got) != 2 {
		t.Fatalf("recorded %+v, want the two cancellations", got)
	}
	for _, c := range got {
		if c.ErrorType != monitor.ErrorTypeCancelled {
			t.Errorf("recorded %+v, want error type %s", c, monitor.ErrorTypeCancelled)
		}
	}
}

// The server's request ids are unique within a session only: an answer
// matches the request of its own session.
func TestCorrelatorKeysServerRequestsBySession(t *testing.T) {
	co, m := newTestCorrelator(t)
	var calls callSet[struct{}]
	a := hop[struct{}]{now: time.Now(), session: "a", requests: &calls}
	b := a
	b.session = "b"
	co.fromServer(msg(t, `{"jsonrpc":"2.0","id":1,"method":"sampling/createMessage"}`), &a)
	co.fromClient(msg(t, `{"jsonrpc":"2.0","id":1,"result":{}}`), &b)
	if got := m.RecentCalls(0, 10); len(got) != 0 {
		t.Fatalf("session b's answer matched session a's request: %+v", got)
	}
	co.fromClient(msg(t, `{"jsonrpc":"2.0","id":1,"result":{}}`), &a)
	got := m.RecentCalls(0, 10)
	if len(got) != 1 || !got[0].FromServer || got[0].Session != "a" || got[0].Method != "sampling/createMessage" {
		t.Fatalf("recorded %+v, want session a's sampling/createMessage from the server", got)
	}
}

// Over stdio, the one client's initialize names every call after it, and
// each call carries the sizes of its request and answer when they are
// whole lines; a batch's elements carry none, rather than a share.
func TestCorrelatorCallDetails(t *testing.T) {
	co, m := newTestCorrelator(t)
	line := func(s string) []byte { return []byte(s + "\n") }
	send := func(req, res string) {
		h := hop[struct{}]{now: time.Now(), requests: &co.c2s, alone: true, raw: line(req)}
		co.fromClient(msg(t, req), &h)
		h.raw = line(res)
		co.fromServer(msg(t, res), &h)
	}
	initReq := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","clientInfo":{"name":"stdio-agent","version":"7"}}}`
	initRes := `{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","serverInfo":{"name":"s","version":"1"}}}`
	send(initReq, initRes)
	callReq := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`
	callRes := `{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"hi"}]}}`
	send(callReq, callRes)
	batch := hop[struct{}]{now: time.Now(), requests: &co.c2s, alone: false}
	co.fromClient(msg(t, `{"jsonrpc":"2.0","id":3,"method":"ping"}`), &batch)
	co.fromServer(msg(t, `{"jsonrpc":"2.0","id":3,"result":{}}`), &batch)

	got := m.RecentCalls(0, 10)
	if len(got) != 3 {
		t.Fatalf("recorded %+v", got)
	}
	ping, call, init := got[0], got[1], got[2]
	want := monitor.ClientInfo{Name: "stdio-agent", Version: "7"}
	if init.Client != want || init.Protocol != "2025-06-18" || init.RequestBytes != int64(len(initReq)+1) || init.ResponseBytes != int64(len(initRes)+1) {
		t.Errorf("initialize %+v: want the client, the agreed version and both line sizes", init)
	}
	if call.Client != want || call.Tool != "echo" || call.RequestBytes != int64(len(callReq)+1) || call.ResponseBytes != int64(len(callRes)+1) || call.Protocol != "" {
		t.Errorf("tools/call %+v", call)
	}
	if ping.Client != want || ping.RequestBytes != 0 || ping.ResponseBytes != 0 {
		t.Errorf("batched ping %+v: the client, and no sizes", ping)
	}
}

// A failed answer's message goes with the call: a JSON-RPC error's, or
// the first text of a tool result with isError.
func TestCorrelatorFailureText(t *testing.T) {
	co, m := newTestCorrelator(t)
	send := func(req, res string) {
		h := hop[struct{}]{now: time.Now(), requests: &co.c2s, alone: true, raw: []byte(req)}
		co.fromClient(msg(t, req), &h)
		h.raw = []byte(res)
		co.fromServer(msg(t, res), &h)
	}
	send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}}`,
		`{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"unknown tool: a"}}`)
	send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"b"}}`,
		`{"jsonrpc":"2.0","id":2,"result":{"isError":true,"content":[{"type":"image","data":""},{"type":"text","text":"<b>no</b> such entity"}]}}`)
	send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"c"}}`,
		`{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"fine"}]}}`)
	got := map[string]monitor.Call{}
	for _, c := range m.RecentCalls(0, 10) {
		got[c.Tool] = c
	}
	if c := got["a"]; c.ErrorType != "-32602" || c.Error != "unknown tool: a" {
		t.Errorf("protocol error: %q %q", c.ErrorType, c.Error)
	}
	if c := got["b"]; c.ErrorType != monitor.ErrorTypeTool || c.Error != "<b>no</b> such entity" {
		t.Errorf("tool error: %q %q", c.ErrorType, c.Error)
	}
	if c := got["c"]; c.ErrorType != "" || c.Error != "" {
		t.Errorf("success: %q %q", c.ErrorType, c.Error)
	}
}

// TestCorrelatorServerCancelOverHTTP: over HTTP too, a request of the
// server's that the server cancels is over, and its spans end: a client
// that follows the protocol will not answer it.
func TestCorrelatorServerCancelOverHTTP(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tel, err := telemetry.NewWith(telemetry.Options{}, rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	mt, err := newMeters(monitor.New(monitor.Options{DisableSystem: true}), monitor.TransportHTTP)
	if err != nil {
		t.Fatal(err)
	}
	co := newCorrelator[struct{}](mt, Observers{Telemetry: tel})
	co.notices = &cancelNotices{} // as NewHTTP has it
	h := hop[struct{}]{now: time.Now(), session: "s1", requests: &co.c2s}
	co.fromServer(msg(t, `{"jsonrpc":"2.0","id":"r1","method":"roots/list"}`), &h)
	co.fromServer(msg(t, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"r1"}}`), &h)
	n := 0
	for _, s := range rec.Ended() {
		if s.Name() == "roots/list" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d roots/list spans ended, want 2", n)
	}
}
