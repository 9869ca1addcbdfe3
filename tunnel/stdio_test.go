package tunnel_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/report"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel/tunneltest"
)

func TestStdioRelaysEveryByteAndTimesRequests(t *testing.T) {
	const maxLine = 1024
	r := startStdio(t, tunnel.StdioOptions{MaxLineSize: maxLine})

	r.initialize()
	r.call(`"two"`, `{"jsonrpc":"2.0","id":"two","method":"tools/list"}`)
	// Ids are matched by their raw bytes: 3.0 is answered as 3.0.
	if got := r.toolText("3.0", "echo", `{"text":"h\u00e9llo, w\u00f6rld"}`); got != "héllo, wörld" {
		t.Errorf("echo = %q", got)
	}
	if w := r.call("4", `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"fail","arguments":{}}}`); !bytes.Contains(w.Result, []byte(`"isError":true`)) {
		t.Errorf("fail result = %s, want isError", w.Result)
	}
	if w := r.call("5", `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"rpc_error","arguments":{}}}`); w.Error == nil || w.Error.Code != -32602 {
		t.Errorf("rpc_error answered %+v, want error -32602", w)
	}
	r.toolText("6", "notify", `{}`) // a server notification comes first
	// The server asks the client roots/list before answering; await answers.
	if got := r.toolText("7", "roots", `{}`); !strings.Contains(got, "file:///srv") {
		t.Errorf("roots = %q, want the client's roots", got)
	}
	// Responses out of order: the slow call is answered after the echo.
	r.send(`{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"slow","arguments":{"ms":50}}}`)
	r.toolText("9", "echo", `{"text":"quick"}`)
	r.response("8")
	// A batch is measured element by element.
	r.send(`[{"jsonrpc":"2.0","id":10,"method":"ping"},{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"echo","arguments":{"text":"batched"}}}]`)
	r.await("the batch response", func(line []byte) bool { return line[0] == '[' })
	// A line that is not JSON is relayed; the server answers it with id null.
	r.send("this is not JSON")
	r.await("the parse error", func(line []byte) bool { return bytes.Contains(line, []byte(`"id":null`)) })
	// A line over the limit is relayed in pieces, and read as it passes.
	r.send(`{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"` + strings.Repeat("y", 3*maxLine) + `"}}`)
	r.call("12", `{"jsonrpc":"2.0","id":12,"method":"ping"}`)
	// The server's malformed and oversized lines come through too.
	r.toolText("13", "noise", `{"size":`+strconv.Itoa(2*maxLine)+`}`)
	r.send(`{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}`)
	r.call("14", "{\"jsonrpc\":\"2.0\",\"id\":14,\"method\":\"ping\"}\r\n")

	if res := r.closeInput(); res.status != 0 || res.err != nil {
		t.Fatalf("Run = %d, %v; want 0, nil after the client closed its side", res.status, res.err)
	}

	// Byte for byte, both ways.
	if got, want := r.recorded(tunneltest.Received), r.sent.Bytes(); !bytes.Equal(got, want) {
		t.Errorf("the server received other bytes than the client sent:\n%s", cmp.Diff(string(want), string(got)))
	}
	if got, want := r.got.Bytes(), r.recorded(tunneltest.Sent); !bytes.Equal(got, want) {
		t.Errorf("the client received other bytes than the server sent:\n%s", cmp.Diff(string(want), string(got)))
	}

	s := r.m.Sample(t.Context())
	methods := map[string]summary{}
	for name, l := range s.Methods {
		methods[name] = summary{l.Count, l.Errors, l.ErrorTypes}
	}
	wantMethods := map[string]summary{
		"initialize": {Count: 1},
		"tools/list": {Count: 1},
		// echo ×3, fail, rpc_error, notify, roots, slow, noise
		"tools/call": {Count: 9, Errors: 2, Types: map[string]uint64{"tool_error": 1, "-32602": 1}},
		"ping":       {Count: 3},
		"roots/list": {Count: 1}, // the server's request, answered by the client
	}
	if diff := cmp.Diff(wantMethods, withoutOther(methods)); diff != "" {
		t.Errorf("methods (-want +got):\n%s", diff)
	}
	checkCalls(t, r.m, monitor.TransportStdio, countOf(s.Methods))
	tools := map[string]summary{}
	for name, ts := range s.Tools {
		tools[name] = summary{ts.Count, ts.Errors, ts.ErrorTypes}
	}
	wantTools := map[string]summary{
		"echo":      {Count: 3},
		"fail":      {Count: 1, Errors: 1, Types: map[string]uint64{"tool_error": 1}},
		"rpc_error": {Count: 1, Errors: 1, Types: map[string]uint64{"-32602": 1}},
		"notify":    {Count: 1},
		"roots":     {Count: 1},
		"slow":      {Count: 1},
		"noise":     {Count: 1},
	}
	if diff := cmp.Diff(wantTools, tools); diff != "" {
		t.Errorf("tools (-want +got):\n%s", diff)
	}
	wantCounters := map[string]float64{
		tunnel.CounterMalformed:           2, // the client's and the server's
		tunnel.CounterOversized:           2, // the client's and the server's
		tunnel.CounterClientNotifications: 3, // initialized, the long one, roots/list_changed
		tunnel.CounterServerNotifications: 2, // notify's, noise's long one
		tunnel.CounterUnmatched:           0,
		tunnel.CounterDropped:             0,
		tunnel.CounterUntracked:           0,
		tunnel.CounterRestarts:            0,
	}
	if diff := cmp.Diff(wantCounters, s.Custom.Counters); diff != "" {
		t.Errorf("counters (-want +got):\n%s", diff)
	}
	info := r.p.Info()
	if info.Server == nil || info.Server.Name != tunneltest.ServerName || info.Server.Version != tunneltest.ServerVersion {
		t.Errorf("Info().Server = %+v, want %s %s", info.Server, tunneltest.ServerName, tunneltest.ServerVersion)
	}
	if info.ProtocolVersion != "2025-06-18" || info.Transport != "stdio" {
		t.Errorf("Info() = %+v", info)
	}
}

// summary is the part of a latency summary the tests compare.
type summary struct {
	Count, Errors uint64
	Types         map[string]uint64
}

// withoutOther drops the monitor's catch-all method, present from the start.
func withoutOther(m map[string]summary) map[string]summary {
	if m[monitor.OtherMethod].Count == 0 {
		delete(m, monitor.OtherMethod)
	}
	return m
}

func TestStdioCrashAnswersRequestsInFlight(t *testing.T) {
	r := startStdio(t, tunnel.StdioOptions{})
	r.initialize()
	r.send(`{"jsonrpc":"2.0","id":"slow-1","method":"tools/call","params":{"name":"slow","arguments":{"ms":600000}}}`)
	r.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"crash","arguments":{}}}`)

	for _, id := range []string{`"slow-1"`, "2"} {
		w := r.response(id)
		if w.Error == nil || w.Error.Code != -32000 || !strings.Contains(w.Error.Message, "upstream MCP server exited: exit status 3") {
			t.Errorf("response to %s = %+v, want error -32000 saying the server exited", id, w.Error)
		}
	}
	if res := r.wait(); res.status != tunneltest.ExitCodeCrash || res.err != nil {
		t.Errorf("Run = %d, %v; want the child's status %d", res.status, res.err, tunneltest.ExitCodeCrash)
	}

	alerts := alert.New(r.m, alert.Options{NoDefaultRules: true})
	if err := alerts.AddRule(tunnel.UpstreamDownRule()); err != nil {
		t.Fatal(err)
	}
	s := r.m.Sample(t.Context())
	for _, tool := range []string{"slow", "crash"} {
		got := s.Tools[tool]
		if got.Count != 1 || got.ErrorTypes[tunnel.ErrorTypeUpstreamExit] != 1 {
			t.Errorf("tool %s: count %d, error types %v; want 1 call failed with %s", tool, got.Count, got.ErrorTypes, tunnel.ErrorTypeUpstreamExit)
		}
	}
	if got := s.Gauge(tunnel.GaugeUpstreamUp); !got.OK || got.Value != 0 {
		t.Errorf("gauge %s = %+v, want 0", tunnel.GaugeUpstreamUp, got)
	}
	h := report.HealthOf(s, alerts.Active())
	if h.Status != report.HealthCritical || len(h.Issues) != 1 || !strings.Contains(h.Issues[0], tunnel.RuleUpstreamDown) {
		t.Errorf("health = %s %q, want critical from %s", h.Status, h.Issues, tunnel.RuleUpstreamDown)
	}
	if info := r.p.Info(); info.Up || info.LastExit != "exit status 3" {
		t.Errorf("Info() = %+v, want down after exit status 3", info)
	}
}

func TestStdioRestartReplaysInitialization(t *testing.T) {
	r := startStdio(t, tunnel.StdioOptions{Restart: true, MinBackoff: 1})
	r.initialize()
	first := r.toolText("2", "pid", `{}`)

	// The server asks the client something, then dies before the answer.
	r.send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"roots","arguments":{}}}`)
	ask := parse(t, r.await("the server's roots/list", func(line []byte) bool { return bytes.Contains(line, []byte(`"roots/list"`)) }))
	r.send(`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"crash","arguments":{}}}`)
	for _, id := range []string{"3", "4"} {
		if w := r.response(id); w.Error == nil || w.Error.Code != -32000 {
			t.Fatalf("response to %s = %+v, want the upstream exit error", id, w)
		}
	}
	// The answer for the dead server goes nowhere; the next call waits for
	// the new server, which the replayed initialization has made ready.
	lateAnswer := `{"jsonrpc":"2.0","id":` + string(ask.ID) + `,"result":{"roots":[]}}`
	r.send(lateAnswer)
	second := r.toolText("5", "pid", `{}`)
	if first == second {
		t.Errorf("pid %s before and after the crash: not restarted", first)
	}
	if res := r.closeInput(); res.status != 0 || res.err != nil {
		t.Errorf("Run = %d, %v; want 0 after the client closed its side", res.status, res.err)
	}

	for _, line := range r.seen {
		if w := parse(t, line); string(w.ID) == "1" {
			t.Errorf("the client saw a second initialize response: %s", line)
		}
	}
	// The new server's input: the replay, then the client's next call.
	want := initLine + "\n" + initializedLine + "\n" +
		`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"pid","arguments":{}}}` + "\n"
	if got := string(r.recorded(tunneltest.Received)); got != want {
		t.Errorf("the restarted server received:\n%s", cmp.Diff(want, got))
	}

	s := r.m.Sample(t.Context())
	if got := s.Custom.Counters[tunnel.CounterRestarts]; got != 1 {
		t.Errorf("restarts = %v, want 1", got)
	}
	if got := s.Custom.Counters[tunnel.CounterDropped]; got != 1 {
		t.Errorf("dropped lines = %v, want 1 (the late answer)", got)
	}
	if got := s.Methods["initialize"]; got.Count != 1 {
		t.Errorf("initialize count = %d, want 1: the replay is the tunnel's, not the client's", got.Count)
	}
	if got := s.Methods["roots/list"]; got.Count != 1 || got.ErrorTypes[tunnel.ErrorTypeUpstreamExit] != 1 {
		t.Errorf("roots/list = %+v, want 1 failed with %s", got, tunnel.ErrorTypeUpstreamExit)
	}
	if got := s.Tools["pid"]; got.Count != 2 || got.Errors != 0 {
		t.Errorf("pid calls = %d (%d failed), want 2 successful", got.Count, got.Errors)
	}
	if info := r.p.Info(); info.Restarts != 1 {
		t.Errorf("Info().Restarts = %d, want 1", info.Restarts)
	}
}

func TestStdioGivesUpAfterMaxRestarts(t *testing.T) {
	r := startStdio(t, tunnel.StdioOptions{Restart: true, MaxRestarts: 2, MinBackoff: 1}, "/bin/sh", "-c", "exit 7")
	if res := r.wait(); res.status != 7 || res.err != nil {
		t.Errorf("Run = %d, %v; want 7", res.status, res.err)
	}
	s := r.m.Sample(t.Context())
	if got := s.Custom.Counters[tunnel.CounterRestarts]; got != 2 {
		t.Errorf("restarts = %v, want 2", got)
	}
	if !strings.Contains(r.logs.String(), "giving up") {
		t.Errorf("log does not say the tunnel gave up:\n%s", r.logs.String())
	}
}

func TestStdioSignalIsForwardedAndEndsRun(t *testing.T) {
	r := startStdio(t, tunnel.StdioOptions{Restart: true})
	r.initialize()
	if err := r.p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if res := r.wait(); res.status != tunneltest.ExitCodeSignal || res.err != nil {
		t.Errorf("Run = %d, %v; want the child's %d, and no restart", res.status, res.err, tunneltest.ExitCodeSignal)
	}
	if got := r.stderr.String(); !strings.Contains(got, "fake-mcp: got terminated") {
		t.Errorf("child stderr = %q, want the signal seen", got)
	}
}

func TestStdioContextEndStopsChild(t *testing.T) {
	r := startStdio(t, tunnel.StdioOptions{})
	r.initialize()
	r.cancel()
	if res := r.wait(); res.status != tunneltest.ExitCodeSignal || res.err != nil {
		t.Errorf("Run = %d, %v; want %d from the child's SIGTERM handler", res.status, res.err, tunneltest.ExitCodeSignal)
	}
}

func TestStdioStartFailure(t *testing.T) {
	r := startStdio(t, tunnel.StdioOptions{}, "/nonexistent/mcp-server")
	if res := r.wait(); res.err == nil || !strings.Contains(res.err.Error(), "/nonexistent/mcp-server") {
		t.Errorf("Run error = %v, want one naming the command", res.err)
	}
}

func TestNewStdioRefusesEmptyCommand(t *testing.T) {
	if _, err := tunnel.NewStdio(newMonitor(), tunnel.Command{}, tunnel.StdioOptions{}); err == nil {
		t.Error("NewStdio accepted an empty command")
	}
	if _, err := tunnel.NewStdio(nil, tunnel.Command{Path: "x"}, tunnel.StdioOptions{}); err == nil {
		t.Error("NewStdio accepted a nil monitor")
	}
}

// responsesByID counts the responses in the client's output by raw id,
// batches included; id null (an answer to a line that was not JSON) is no
// request's.
func responsesByID(t *testing.T, out []byte) map[string]int {
	t.Helper()
	n := map[string]int{}
	for line := range bytes.Lines(out) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var msgs []wire
		if line[0] == '[' {
			if err := json.Unmarshal(line, &msgs); err != nil {
				t.Fatalf("batch from the tunnel: %v\n%.200q", err, line)
			}
		} else {
			msgs = []wire{parse(t, line)}
		}
		for _, w := range msgs {
			if w.Method == "" && len(w.ID) > 0 && string(w.ID) != "null" {
				n[string(w.ID)]++
			}
		}
	}
	return n
}

func TestStdioCancelledRequestIsNotAnsweredAgain(t *testing.T) {
	r := startStdio(t, tunnel.StdioOptions{})
	r.initialize()
	block := func(id string, late bool) {
		r.send(`{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{"name":"block","arguments":{"late":` + strconv.FormatBool(late) + `}}}`)
	}
	cancel := func(id string) {
		r.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":` + id + `,"reason":"the user gave up"}}`)
	}
	// The server answers right after the cancellation, as one that does
	// not honour it or raced it would; then it honours one.
	block(`"late"`, true)
	cancel(`"late"`)
	block(`"never"`, false)
	cancel(`"never"`)
	// The server writes the late answer before it reads the next line:
	// once this ping is answered, the tunnel has read the late answer.
	r.call("3", `{"jsonrpc":"2.0","id":3,"method":"ping"}`)

	// The server cancels its own request; the client, which answers once
	// it has read the cancellation, is not passed on.
	r.send(`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"unask","arguments":{}}}`)
	ask := parse(t, r.await("the server's roots/list", func(line []byte) bool { return bytes.Contains(line, []byte(`"roots/list"`)) }))
	r.await("the server's cancellation", func(line []byte) bool { return bytes.Contains(line, []byte(`"notifications/cancelled"`)) })
	r.send(`{"jsonrpc":"2.0","id":` + string(ask.ID) + `,"result":{"roots":[]}}`)
	r.response("4")

	// A request still blocked when the server exits gets one error; the
	// cancelled ones get none.
	block(`"left"`, false)
	r.send(`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"crash","arguments":{}}}`)
	for _, id := range []string{`"left"`, "5"} {
		if w := r.response(id); w.Error == nil || w.Error.Code != -32000 {
			t.Errorf("response to %s = %+v, want the upstream exit error", id, w)
		}
	}
	if res := r.wait(); res.status != tunneltest.ExitCodeCrash {
		t.Errorf("Run = %d, %v; want %d", res.status, res.err, tunneltest.ExitCodeCrash)
	}

	want := map[string]int{"1": 1, "3": 1, "4": 1, `"left"`: 1, "5": 1}
	if diff := cmp.Diff(want, responsesByID(t, r.got.Bytes())); diff != "" {
		t.Errorf("responses by id (-want +got):\n%s", diff)
	}
	if got := r.recorded(tunneltest.Received); bytes.Contains(got, []byte(`"result":{"roots"`)) {
		t.Errorf("the server received the answer to the request it cancelled:\n%s", got)
	}
	s := r.m.Sample(t.Context())
	blocks := s.Tools["block"]
	if diff := cmp.Diff(summary{Count: 3, Errors: 3, Types: map[string]uint64{monitor.ErrorTypeCancelled: 2, tunnel.ErrorTypeUpstreamExit: 1}},
		summary{blocks.Count, blocks.Errors, blocks.ErrorTypes}); diff != "" {
		t.Errorf("block calls (-want +got):\n%s", diff)
	}
	if got := s.Methods["roots/list"]; got.Count != 1 || got.ErrorTypes[monitor.ErrorTypeCancelled] != 1 {
		t.Errorf("roots/list = %+v, want 1 %s", got, monitor.ErrorTypeCancelled)
	}
	if got := s.Custom.Counters[tunnel.CounterDropped]; got != 2 {
		t.Errorf("dropped lines = %v, want 2: the late answer each way", got)
	}
}

// TestStdioAnswersEachRequestAtMostOnce drives every path by which a
// request can be answered (a response, a response on a line over the
// limit with its id first or last, a batch, a cancellation, the server's
// exit, a restart with its replay) and checks that the client gets one
// response per request id, none for the requests it cancelled, and that
// each request is recorded once with its outcome.
func TestStdioAnswersEachRequestAtMostOnce(t *testing.T) {
	const maxLine = 1024
	r := startStdio(t, tunnel.StdioOptions{MaxLineSize: maxLine, Restart: true, MinBackoff: 1})
	call := func(id, tool, args string) string {
		return `{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{"name":"` + tool + `","arguments":` + args + `}}`
	}
	cancel := func(id string) {
		r.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":` + id + `}}`)
	}
	long := strconv.Itoa(4 * maxLine)
	longText := strings.Repeat("t", 4*maxLine)

	r.initialize()
	r.toolText(`"n1"`, "echo", `{"text":"short"}`)
	// Responses over the limit, with the id before or after the result.
	r.call(`"big-first"`, call(`"big-first"`, "big", `{"size":`+long+`}`))
	r.call(`"big-last"`, call(`"big-last"`, "big", `{"size":`+long+`,"idLast":true}`))
	r.call(`"big-fail"`, call(`"big-fail"`, "big", `{"size":`+long+`,"idLast":true,"fail":true}`))
	// A request over the limit, and its answer over it too.
	if got := r.toolText(`"long-req"`, "echo", `{"text":"`+longText+`"}`); got != longText {
		t.Errorf("the long echo came back %d bytes long", len(got))
	}
	r.send(`[{"jsonrpc":"2.0","id":"b1","method":"ping"},` + call(`"b2"`, "echo", `{"text":"batched"}`) + `]`)
	r.await("the batch's response", func(line []byte) bool { return line[0] == '[' })
	// Cancelled: answered late by the server, or never.
	r.send(call(`"late"`, "block", `{"late":true}`))
	cancel(`"late"`)
	r.send(call(`"never"`, "block", `{}`))
	cancel(`"never"`)
	// Left waiting when the server crashes.
	r.send(call(`"left"`, "block", `{}`))
	r.send(call(`"crash"`, "crash", `{}`))
	r.response(`"crash"`)
	r.response(`"left"`)

	// The restarted server gets the client's initialization again, and
	// then the same paths once more.
	r.toolText(`"n2"`, "echo", `{"text":"again"}`)
	r.call(`"big-2"`, call(`"big-2"`, "big", `{"size":`+long+`,"idLast":true}`))
	r.send(call(`"never-2"`, "block", `{}`))
	cancel(`"never-2"`)
	r.send(call(`"left-2"`, "block", `{}`))

	// The server dies while a request over the limit is being written to
	// it: no server gets that request whole. The pipe hands the tunnel
	// each part only once it has read the part before, so the first
	// 64 KiB piece has been written to the server when it is killed, and
	// the middle part's writing fails.
	pid, err := strconv.Atoi(r.toolText(`"pid2"`, "pid", `{}`))
	if err != nil {
		t.Fatal(err)
	}
	chunk := strings.Repeat("c", 128<<10)
	r.sendPart(`{"jsonrpc":"2.0","id":"cut","method":"tools/call","params":{"name":"echo","arguments":{"text":"` + chunk)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(waitLimit); syscall.Kill(pid, 0) == nil; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the server %d is still there %v after SIGKILL", pid, waitLimit)
		}
	}
	r.sendPart(chunk)
	r.send(`"}}}`)
	if w := r.response(`"cut"`); w.Error == nil || w.Error.Code != -32000 {
		t.Errorf("response to the cut request = %+v, want the upstream exit error", w)
	}

	// A third server; closing the input ends it.
	r.toolText(`"n3"`, "echo", `{"text":"once more"}`)
	r.send(call(`"left-3"`, "block", `{}`))
	if res := r.closeInput(); res.status != 0 || res.err != nil {
		t.Errorf("Run = %d, %v; want 0 after the client closed its side", res.status, res.err)
	}

	want := map[string]int{}
	for _, id := range []string{"1", `"n1"`, `"big-first"`, `"big-last"`, `"big-fail"`, `"long-req"`, `"b1"`, `"b2"`,
		`"left"`, `"crash"`, `"n2"`, `"big-2"`, `"left-2"`, `"pid2"`, `"cut"`, `"n3"`, `"left-3"`} {
		want[id] = 1
	}
	if diff := cmp.Diff(want, responsesByID(t, r.got.Bytes())); diff != "" {
		t.Errorf("responses by id (-want +got):\n%s", diff)
	}

	s := r.m.Sample(t.Context())
	tools := map[string]summary{}
	for name, ts := range s.Tools {
		tools[name] = summary{ts.Count, ts.Errors, ts.ErrorTypes}
	}
	exit, cancelled := tunnel.ErrorTypeUpstreamExit, monitor.ErrorTypeCancelled
	wantTools := map[string]summary{
		"echo":  {Count: 6, Errors: 1, Types: map[string]uint64{exit: 1}}, // the cut one failed
		"big":   {Count: 4, Errors: 1, Types: map[string]uint64{monitor.ErrorTypeTool: 1}},
		"block": {Count: 6, Errors: 6, Types: map[string]uint64{cancelled: 3, exit: 3}},
		"crash": {Count: 1, Errors: 1, Types: map[string]uint64{exit: 1}},
		"pid":   {Count: 1},
	}
	if diff := cmp.Diff(wantTools, tools); diff != "" {
		t.Errorf("tools (-want +got):\n%s", diff)
	}
	if got := s.Methods["initialize"]; got.Count != 1 {
		t.Errorf("initialize count = %d, want 1: the replay is the tunnel's", got.Count)
	}
	if got := s.Custom.Counters[tunnel.CounterUnmatched]; got != 0 {
		t.Errorf("unmatched responses = %v, want 0", got)
	}
}
