package monitor

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// heapAfterGC is the live heap once garbage is collected.
func heapAfterGC() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestCallRingMemoryBounded records 100 000 calls, each with strings of its
// own as a server decoding requests makes them (the tool name, the session,
// a long error): the memory held stays that of the ring's 10 000 calls,
// whatever the number recorded.
func TestCallRingMemoryBounded(t *testing.T) {
	m := New(Options{DisableSystem: true, MaxTools: 4})
	errText := strings.Repeat("x", 300) // cut to 256 bytes when kept
	record := func(n int) {
		for i := range n {
			m.RecordCall(Call{
				Start: time.Now(), Duration: time.Millisecond, Method: MethodToolsCall,
				Tool:    strings.Clone("tool_" + strconv.Itoa(i%4)),
				Session: strings.Clone("session-" + strconv.Itoa(i%100)),
				Client:  ClientInfo{Name: "c", Version: "1"}, ErrorType: ErrorTypeTool, Error: errText + strconv.Itoa(i),
			})
		}
	}
	record(DefaultCallRing) // the ring full once
	full := heapAfterGC()
	record(90_000)
	after := heapAfterGC()
	growth := int64(after) - int64(full)
	// Nothing but the turnover of the same 10 000 slots: allow 1 MB of
	// noise from the runtime.
	if growth > 1<<20 {
		t.Errorf("heap grew %d bytes over 90 000 more calls with the ring full", growth)
	}
	slot := int64(unsafe.Sizeof(callSlot{}))
	t.Logf("slot %d bytes; the ring holds %d slots, %.1f MB", slot, DefaultCallRing, float64(slot*DefaultCallRing)/1e6)
}

// BenchmarkCallRingBytes reports the memory the ring holds per call kept:
// its slot and the strings the call pins (a decoded tool name and session
// id, a 256-byte error), measured on the heap.
func BenchmarkCallRingBytes(b *testing.B) {
	for b.Loop() {
		before := heapAfterGC()
		m := New(Options{DisableSystem: true, MaxTools: 4})
		errText := strings.Repeat("x", 300)
		for i := range DefaultCallRing {
			m.RecordCall(Call{
				Start: time.Now(), Duration: time.Millisecond, Method: MethodToolsCall,
				Tool:      strings.Clone("tool_" + strconv.Itoa(i%4)),
				Session:   strings.Clone("session-" + strconv.Itoa(i)),
				ErrorType: ErrorTypeTool, Error: errText,
			})
		}
		after := heapAfterGC()
		b.ReportMetric(float64(int64(after)-int64(before))/DefaultCallRing, "B/call")
		b.ReportMetric(float64(unsafe.Sizeof(callSlot{})), "B/slot")
		runtime.KeepAlive(m)
	}
}
