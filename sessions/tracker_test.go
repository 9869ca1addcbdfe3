package sessions

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

var (
	claude = monitor.ClientInfo{Name: "claude-code", Version: "2.1.0"}
	cursor = monitor.ClientInfo{Name: "cursor", Version: "1.7"}
)

func newRig(opts Options, ring int) (*monitor.Monitor, *Tracker, *testenv.Clock) {
	clock := testenv.NewClock()
	m := monitor.New(monitor.Options{DisableSystem: true, Now: clock.Now, CallRing: ring})
	opts.Now = clock.Now
	return m, New(m, opts), clock
}

// record records a call starting now on the clock, then moves the clock
// past its end.
func record(m *monitor.Monitor, clock *testenv.Clock, c monitor.Call) {
	c.Start = clock.Now()
	m.RecordCall(c)
	clock.Advance(c.Duration + time.Millisecond)
}

func byID(ss []Session) map[string]Session {
	out := map[string]Session{}
	for _, s := range ss {
		out[s.Transport+"|"+s.ID] = s
	}
	return out
}

func TestSessionsFromCalls(t *testing.T) {
	clock := testenv.NewClock()
	m := monitor.New(monitor.Options{DisableSystem: true, Now: clock.Now})
	m.RecordCall(monitor.Call{Method: "ping", Session: "before", Transport: monitor.TransportHTTP}) // before the tracker: not counted
	tr := New(m, Options{})
	start := clock.Now()
	http := func(c monitor.Call) monitor.Call { c.Transport = monitor.TransportHTTP; return c }
	record(m, clock, http(monitor.Call{Method: "initialize", Session: "s1", Client: claude, Protocol: "2025-11-25", Duration: time.Millisecond}))
	record(m, clock, http(monitor.Call{Method: "tools/call", Tool: "search", Session: "s1", Client: claude, Duration: 10 * time.Millisecond,
		RequestBytes: 100, ResponseBytes: 2000, ResponseTokens: 450}))
	record(m, clock, http(monitor.Call{Method: "tools/call", Tool: "search", Session: "s1", Client: claude, Duration: 30 * time.Millisecond,
		ErrorType: monitor.ErrorTypeTool, RequestBytes: 80, ResponseBytes: 50}))
	record(m, clock, http(monitor.Call{Method: "tools/call", Tool: "invented", UnknownTool: true, Session: "s1", Client: claude,
		Duration: time.Millisecond, ErrorType: "-32602"}))
	record(m, clock, http(monitor.Call{Method: "initialize", Session: "s2", Client: cursor, Protocol: "2025-06-18", Duration: 2 * time.Millisecond}))
	record(m, clock, monitor.Call{Method: "tools/list", Transport: monitor.TransportStdio, Client: claude, Duration: time.Millisecond})
	// Neither a notification nor a stateless discovery is a call of a
	// session, nor opens one.
	record(m, clock, http(monitor.Call{Method: "notifications/initialized", Session: "s2", Client: cursor}))
	record(m, clock, http(monitor.Call{Method: "server/discover", Session: "probe"}))

	got := byID(tr.Sessions())
	if len(got) != 3 {
		t.Fatalf("sessions %v, want s1, s2 and the stdio one", got)
	}
	s1 := got["http|s1"]
	want := Session{ID: "s1", Transport: "http", Client: claude, Protocol: "2025-11-25", Started: start,
		Calls: 4, Errors: 2, RequestBytes: 180, ResponseBytes: 2050, ResponseTokens: 450, TokenedCalls: 1}
	if s1.ID != want.ID || s1.Transport != want.Transport || s1.Client != want.Client || s1.Protocol != want.Protocol ||
		!s1.Started.Equal(want.Started) || s1.Calls != want.Calls || s1.Errors != want.Errors ||
		s1.RequestBytes != want.RequestBytes || s1.ResponseBytes != want.ResponseBytes ||
		s1.ResponseTokens != want.ResponseTokens || s1.TokenedCalls != want.TokenedCalls || !s1.Ended.IsZero() {
		t.Errorf("s1 = %+v\nwant %+v", s1, want)
	}
	if tc := s1.Tools["search"]; tc != (ToolCount{Calls: 2, Errors: 1}) {
		t.Errorf("s1 search = %+v", tc)
	}
	if tc := s1.Tools[OtherTool]; tc != (ToolCount{Calls: 1, Errors: 1}) || len(s1.Tools) != 2 {
		t.Errorf("s1 tools = %+v: an unknown tool must count under %s", s1.Tools, OtherTool)
	}
	// Durations 1, 10, 30 and 1 ms: the nearest-rank p50 is 1 ms, the p95
	// 30 ms, within the buckets' error.
	near := func(got, want time.Duration) bool {
		return math.Abs(float64(got-want)) <= monitor.PercentileRelativeError*float64(want)
	}
	if !near(s1.P50, time.Millisecond) || !near(s1.P95, 30*time.Millisecond) {
		t.Errorf("s1 p50 %v p95 %v, want 1ms and 30ms", s1.P50, s1.P95)
	}
	// Each call is followed by a millisecond of quiet: the last of s1
	// starts 44 ms in and takes 1.
	if wantLast := start.Add(45 * time.Millisecond); !s1.LastSeen.Equal(wantLast) {
		t.Errorf("s1 last seen %v, want %v (the end of its last call)", s1.LastSeen, wantLast)
	}
	if s := got["stdio|"]; s.Calls != 1 || s.Client != claude {
		t.Errorf("stdio session %+v", s)
	}
	// The most recently active first.
	if ss := tr.Sessions(); ss[0].Transport != "stdio" || ss[1].ID != "s2" || ss[2].ID != "s1" {
		t.Errorf("order %s %s %s", ss[0].ID, ss[1].ID, ss[2].ID)
	}

	clients := tr.Clients()
	if len(clients) != 2 || clients[0].Name != "claude-code" || clients[0].Sessions != 2 || clients[0].LiveSessions != 2 ||
		clients[0].Calls != 5 || clients[0].Errors != 2 || clients[1].Name != "cursor" || clients[1].Calls != 1 {
		t.Errorf("clients %+v", clients)
	}
	if p95 := clients[0].P95; !near(p95, 30*time.Millisecond) {
		t.Errorf("claude-code p95 %v, want 30ms over both its sessions", p95)
	}
}

func TestSessionEnds(t *testing.T) {
	m, tr, clock := newRig(Options{Idle: time.Minute, KeepEnded: 2}, 0)
	for _, id := range []string{"a", "b", "c", "d"} {
		record(m, clock, monitor.Call{Method: "initialize", Session: id, Transport: monitor.TransportHTTP, Duration: time.Millisecond})
	}
	tr.End(monitor.TransportHTTP, "a", EndClosed)
	tr.End(monitor.TransportHTTP, "nope", EndClosed) // unknown: nothing happens
	// A late call of an ended session does not bring it back.
	record(m, clock, monitor.Call{Method: "ping", Session: "a", Transport: monitor.TransportHTTP})
	got := byID(tr.Sessions())
	if a := got["http|a"]; a.Ended.IsZero() || a.EndReason != EndClosed || a.Calls != 1 {
		t.Errorf("a after End: %+v", a)
	}
	// b, c, d go idle; only the last two ended are kept.
	clock.Advance(2 * time.Minute)
	record(m, clock, monitor.Call{Method: "initialize", Session: "e", Transport: monitor.TransportHTTP, Duration: time.Millisecond})
	ss := tr.Sessions()
	if len(ss) != 3 || ss[0].ID != "e" || !ss[0].Ended.IsZero() {
		t.Fatalf("sessions %+v, want e live then two ended", ss)
	}
	for _, s := range ss[1:] {
		if s.EndReason != EndIdle || s.Ended.IsZero() || s.Ended.Sub(s.LastSeen) != time.Minute {
			t.Errorf("%s: ended %v (%s), last seen %v; want idle a minute after its last call", s.ID, s.Ended, s.EndReason, s.LastSeen)
		}
	}
}

func TestSessionsBounded(t *testing.T) {
	m, tr, clock := newRig(Options{MaxLive: 3, KeepEnded: 100}, 0)
	for i := range 10 {
		record(m, clock, monitor.Call{Method: "initialize", Session: string(rune('a' + i)), Transport: monitor.TransportHTTP})
	}
	live, ended := 0, 0
	for _, s := range tr.Sessions() {
		if s.Ended.IsZero() {
			live++
		} else if s.EndReason == EndEvicted {
			ended++
		}
	}
	if live != 3 || ended != 7 {
		t.Errorf("%d live, %d evicted; want 3 and 7", live, ended)
	}
	// A session's tools are bounded too.
	for i := range maxToolsPerSession + 10 {
		record(m, clock, monitor.Call{Method: monitor.MethodToolsCall, Tool: "t" + string(rune('A'+i)), Session: "j", Transport: monitor.TransportHTTP})
	}
	j := byID(tr.Sessions())["http|j"]
	if len(j.Tools) != maxToolsPerSession+1 || j.Tools[OtherTool].Calls != 10 {
		t.Errorf("%d tools, %d under %s; want %d and 10", len(j.Tools), j.Tools[OtherTool].Calls, OtherTool, maxToolsPerSession+1)
	}
}

// TestMissedCalls records more calls between two reads than the ring
// keeps: the tracker counts the lost ones rather than pretend.
func TestMissedCalls(t *testing.T) {
	m, tr, clock := newRig(Options{}, 10)
	for range 25 {
		record(m, clock, monitor.Call{Method: "ping", Session: "s", Transport: monitor.TransportHTTP})
	}
	s := tr.Sessions()
	if len(s) != 1 || s[0].Calls != 10 || tr.Missed() != 15 {
		t.Errorf("calls %d, missed %d; want 10 read and 15 missed", s[0].Calls, tr.Missed())
	}
	record(m, clock, monitor.Call{Method: "ping", Session: "s", Transport: monitor.TransportHTTP})
	if s := tr.Sessions(); s[0].Calls != 11 || tr.Missed() != 15 {
		t.Errorf("after one more: calls %d, missed %d", s[0].Calls, tr.Missed())
	}
}

// TestTrackerRunsWhileRecording reads while calls are recorded from many
// goroutines: every call is counted once, and Run ends with its context.
func TestTrackerRunsWhileRecording(t *testing.T) {
	m := monitor.New(monitor.Options{DisableSystem: true})
	tr := New(m, Options{Every: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- tr.Run(ctx) }()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				m.RecordCall(monitor.Call{Method: "tools/call", Tool: "x", Session: string(rune('a' + g)), Transport: monitor.TransportHTTP,
					Duration: time.Duration(i) * time.Microsecond})
				if i%500 == 0 {
					_ = tr.Sessions()
				}
			}
		})
	}
	wg.Wait()
	var total uint64
	for _, s := range tr.Sessions() {
		total += s.Calls
	}
	if total+tr.Missed() != 8000 || tr.Missed() != 0 {
		t.Errorf("counted %d, missed %d; want all 8000 counted", total, tr.Missed())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not end with its context")
	}
}
