package monitor

import (
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
