package monitor

import (
	"sync/atomic"
	"testing"
	"time"
)

// RecordCall against the recorders it replaced and the anchors, in one
// run:
//
//	go test -run '^$' -bench 'RecordCall|RecordToolUsage|Anchor' -benchmem ./monitor
//
// BenchmarkRecordCall records a tools/call (per method and per tool) and
// keeps it in the ring; BenchmarkRecordMethodAndTool is the two calls a
// recorder made before calls were records.

func BenchmarkRecordCall(b *testing.B) {
	m := New(Options{DisableSystem: true})
	if err := m.Start(b.Context(), time.Hour); err != nil {
		b.Fatal(err)
	}
	defer m.Stop()
	calls := make([]Call, len(benchTools))
	for i, t := range benchTools {
		calls[i] = Call{Method: MethodToolsCall, Tool: t, Session: "3f1b9c", Transport: TransportHTTP,
			Client: ClientInfo{Name: "claude-code", Version: "2.1"}, RequestBytes: 180, ResponseBytes: 2400}
		m.RecordCall(calls[i])
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			c := calls[i&3]
			c.Duration = time.Duration(i&1023) * time.Microsecond
			if i&15 == 0 {
				c.ErrorType = ErrorTypeTool
			}
			m.RecordCall(c)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				c := calls[i&3]
				c.Duration = time.Duration(i&1023) * time.Microsecond
				m.RecordCall(c)
			}
		})
	})
}

func BenchmarkRecordMethodAndTool(b *testing.B) {
	m := New(Options{DisableSystem: true})
	if err := m.Start(b.Context(), time.Hour); err != nil {
		b.Fatal(err)
	}
	defer m.Stop()
	for _, t := range benchTools {
		m.RecordMethod(MethodToolsCall, time.Millisecond, "")
		m.RecordToolCall(t, time.Millisecond, "")
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			d, et := time.Duration(i&1023)*time.Microsecond, ""
			if i&15 == 0 {
				et = ErrorTypeTool
			}
			m.RecordMethod(MethodToolsCall, d, et)
			m.RecordToolCall(benchTools[i&3], d, et)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				d := time.Duration(i&1023) * time.Microsecond
				m.RecordMethod(MethodToolsCall, d, "")
				m.RecordToolCall(benchTools[i&3], d, "")
			}
		})
	})
}

// BenchmarkRecordCallParts measures, on the machine at hand, the
// operations RecordCall is made of, so that its cost can be read as a sum
// (docs/BENCHMARKS.md section 1): an uncontended atomic add, an atomic
// store, a slot's lock and unlock, and the copy of a call into a slot.
//
//	go test -run '^$' -bench RecordCallParts ./monitor
func BenchmarkRecordCallParts(b *testing.B) {
	var word struct {
		n atomic.Uint64
		_ linePad
	}
	b.Run("atomic-add", func(b *testing.B) {
		for b.Loop() {
			word.n.Add(1)
		}
	})
	b.Run("atomic-store", func(b *testing.B) {
		for i := uint64(0); b.Loop(); i++ {
			word.n.Store(i)
		}
	})
	var slot callSlot
	b.Run("lock-unlock", func(b *testing.B) {
		for b.Loop() {
			slot.mu.Lock()
			slot.c.ID++
			slot.mu.Unlock()
		}
	})
	c := Call{Method: MethodToolsCall, Tool: "search", Session: "3f1b9c", Transport: TransportHTTP}
	b.Run("copy-call", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			c.Duration = time.Duration(i)
			slot.c = c
		}
	})
}
