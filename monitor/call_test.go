package monitor

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"
)

// TestRecordCallCountsAsTheRecordersDid records the same calls through
// RecordCall and through RecordMethod and RecordToolCall: the reports
// agree.
func TestRecordCallCountsAsTheRecordersDid(t *testing.T) {
	calls := []Call{
		{Method: "initialize", Duration: time.Millisecond},
		{Method: MethodToolsCall, Tool: "search", Duration: 3 * time.Millisecond},
		{Method: MethodToolsCall, Tool: "search", Duration: 7 * time.Millisecond, ErrorType: ErrorTypeTool, Error: "no such entity"},
		{Method: MethodToolsCall, Tool: "invented", UnknownTool: true, Duration: time.Millisecond, ErrorType: "-32602"},
		{Method: "resources/read", Duration: 2 * time.Millisecond, ErrorType: "-32002"},
	}
	viaCall := New(Options{DisableSystem: true})
	viaParts := New(Options{DisableSystem: true})
	for _, c := range calls {
		viaCall.RecordCall(c)
		viaParts.RecordMethod(c.Method, c.Duration, c.ErrorType)
		if c.Method == MethodToolsCall && !c.UnknownTool {
			viaParts.RecordToolCall(c.Tool, c.Duration, c.ErrorType)
		}
	}
	viaCall.Sample(t.Context())
	viaParts.Sample(t.Context())
	a, b := viaCall.Latest(), viaParts.Latest()
	for name, want := range b.Methods {
		got := a.Methods[name]
		if got.Count != want.Count || got.Errors != want.Errors || len(got.ErrorTypes) != len(want.ErrorTypes) {
			t.Errorf("method %s: %+v, want %+v", name, got, want)
		}
	}
	if len(a.Tools) != 1 {
		t.Errorf("tools %v: an unknown tool made a tool of its own, or search is missing", a.Tools)
	}
	got, want := a.Tools["search"], b.Tools["search"]
	if got.Count != want.Count || got.Errors != want.Errors || got.SuccessRate() != want.SuccessRate() {
		t.Errorf("tool search: %+v, want %+v", got, want)
	}
}

// TestRecordCallResponseBytesFollowTheCall: a response's size counts in
// the tool the call counted in, OtherTool for a name beyond MaxTools too.
func TestRecordCallResponseBytesFollowTheCall(t *testing.T) {
	m := New(Options{DisableSystem: true, MaxTools: 1})
	for _, c := range []Call{
		{Method: MethodToolsCall, Tool: "search", Duration: time.Millisecond, ResponseBytes: 100},
		{Method: MethodToolsCall, Tool: "search", Duration: time.Millisecond, ResponseBytes: 300},
		{Method: MethodToolsCall, Tool: "beyond_the_bound", Duration: time.Millisecond, ResponseBytes: 1000},
		{Method: MethodToolsCall, Tool: "search", Duration: time.Millisecond}, // size not measured
	} {
		m.RecordCall(c)
	}
	s := m.Sample(t.Context())
	for _, tt := range []struct {
		tool       string
		calls      uint64
		bytesAvg   float64
		bytesKnown bool
	}{
		{"search", 3, 200, true},
		{OtherTool, 1, 1000, true},
	} {
		got := s.Tools[tt.tool]
		if got.Count != tt.calls || got.Responses.BytesAvg.OK != tt.bytesKnown || got.Responses.BytesAvg.Value != tt.bytesAvg {
			t.Errorf("%s: %d calls, response bytes %+v; want %d calls averaging %v bytes", tt.tool, got.Count, got.Responses.BytesAvg, tt.calls, tt.bytesAvg)
		}
	}
}

func TestCallRing(t *testing.T) {
	m := New(Options{DisableSystem: true, CallRing: 3})
	if got := m.RecentCalls(0, 10); len(got) != 0 {
		t.Fatalf("an empty ring gave %d calls", len(got))
	}
	for i := range 5 {
		if id := m.RecordCall(Call{Method: "ping", Duration: time.Duration(i)}); id != uint64(i+1) {
			t.Fatalf("call %d numbered %d", i, id)
		}
	}
	ids := func(cs []Call) []uint64 {
		var out []uint64
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	for _, tt := range []struct {
		before uint64
		n      int
		want   []uint64
	}{
		{0, 10, []uint64{5, 4, 3}}, // the ring keeps 3
		{0, 2, []uint64{5, 4}},
		{4, 10, []uint64{3}}, // the next page
		{3, 10, nil},         // older ones are gone
		{1, 10, nil},
		{99, 1, []uint64{5}}, // beyond the newest: from the newest
		{0, 0, nil},
	} {
		if got := ids(m.RecentCalls(tt.before, tt.n)); !slices.Equal(got, tt.want) {
			t.Errorf("RecentCalls(%d, %d) = %v, want %v", tt.before, tt.n, got, tt.want)
		}
	}
	if m.LastCallID() != 5 {
		t.Errorf("LastCallID = %d", m.LastCallID())
	}
	none := New(Options{DisableSystem: true, CallRing: -1})
	none.RecordCall(Call{Method: "ping"})
	if got := none.RecentCalls(0, 10); got != nil {
		t.Errorf("a monitor that keeps no calls gave %v", got)
	}
}

func TestRecordCallCutsLongErrors(t *testing.T) {
	m := New(Options{DisableSystem: true})
	long := strings.Repeat("é", 300) // two bytes each: byte 256 splits one
	m.RecordCall(Call{Method: "ping", ErrorType: "-32603", Error: long})
	got := m.RecentCalls(0, 1)[0].Error
	if len(got) > maxCallError || !utf8.ValidString(got) || !strings.HasPrefix(long, got) || len(got) < maxCallError-3 {
		t.Errorf("cut error is %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
	}
}

func TestSubscribeCalls(t *testing.T) {
	m := New(Options{DisableSystem: true})
	ctx, cancel := context.WithCancel(t.Context())
	ch := m.SubscribeCalls(ctx, 2)
	for i := range 5 {
		m.RecordCall(Call{Method: "ping", Duration: time.Duration(i)})
	}
	// A reader 3 calls behind has lost the oldest: it gets the newest two.
	if c := <-ch; c.ID != 4 {
		t.Errorf("first call received %d, want 4", c.ID)
	}
	if c := <-ch; c.ID != 5 {
		t.Errorf("second call received %d, want 5", c.ID)
	}
	cancel()
	for range ch { // closed when ctx ends
	}
}

// TestRecordCallAllocatesNothing keeps the hot path free of allocations,
// with a subscriber and without.
func TestRecordCallAllocatesNothing(t *testing.T) {
	m := New(Options{DisableSystem: true})
	c := Call{Method: MethodToolsCall, Tool: "search", Session: "s1", Transport: TransportHTTP,
		Client: ClientInfo{Name: "claude", Version: "1"}, Duration: time.Millisecond, Error: "short"}
	m.RecordCall(c)
	if n := testing.AllocsPerRun(1000, func() { m.RecordCall(c) }); n != 0 {
		t.Errorf("RecordCall allocates %.1f times a call", n)
	}
	ch := m.SubscribeCalls(t.Context(), 16)
	go func() {
		for range ch {
		}
	}()
	if n := testing.AllocsPerRun(1000, func() { m.RecordCall(c) }); n != 0 {
		t.Errorf("RecordCall with a subscriber allocates %.1f times a call", n)
	}
}

// TestRecordCallConcurrently records from several goroutines while a
// reader pages: every ID is given once, and pages are newest first.
func TestRecordCallConcurrently(t *testing.T) {
	m := New(Options{DisableSystem: true, CallRing: 100})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 500 {
				m.RecordCall(Call{Method: "ping", Tool: benchTools[w], Duration: time.Duration(i)})
			}
		})
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 200 {
			page := m.RecentCalls(0, 50)
			for i := 1; i < len(page); i++ {
				if page[i].ID >= page[i-1].ID {
					t.Errorf("page out of order: %d after %d", page[i].ID, page[i-1].ID)
					return
				}
			}
		}
	}()
	wg.Wait()
	<-done
	if m.LastCallID() != 2000 {
		t.Errorf("LastCallID = %d, want 2000", m.LastCallID())
	}
}

// TestCallRingCountsInSelfOverhead keeps the monitor's own memory figure
// honest: the ring's slots are part of it.
func TestCallRingCountsInSelfOverhead(t *testing.T) {
	with := New(Options{DisableSystem: true, CallRing: 1000})
	without := New(Options{DisableSystem: true, CallRing: -1})
	a := with.Sample(t.Context()).Overhead.MemoryBytes
	b := without.Sample(t.Context()).Overhead.MemoryBytes
	if want := int64(1000 * unsafe.Sizeof(callSlot{})); a-b < want {
		t.Errorf("a ring of 1000 adds %d bytes to the monitor's memory figure, want at least %d", a-b, want)
	}
}
