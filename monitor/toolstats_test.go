package monitor

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestToolStats(t *testing.T) {
	type call struct {
		d  time.Duration
		ok bool
	}
	tests := []struct {
		name                      string
		calls                     []call
		wantCount, wantErrs       uint64
		wantSuccess               float64
		wantAvg, wantMin, wantMax time.Duration
	}{
		{"one success", []call{{10 * time.Millisecond, true}}, 1, 0, 100, 10 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond},
		// The average is over all calls, failures included (the Python
		// original summed successes only but divided by all calls).
		{"failures count in the average", []call{{10 * time.Millisecond, true}, {30 * time.Millisecond, false}}, 2, 1, 50, 20 * time.Millisecond, 10 * time.Millisecond, 30 * time.Millisecond},
		{"all failed", []call{{time.Second, false}, {3 * time.Second, false}}, 2, 2, 0, 2 * time.Second, time.Second, 3 * time.Second},
		{"negative duration clamps to 0", []call{{-time.Second, true}, {2 * time.Millisecond, true}}, 2, 0, 100, time.Millisecond, 0, 2 * time.Millisecond},
		{"11 of 12", append(repeat(call{time.Millisecond, true}, 11), call{time.Millisecond, false}), 12, 1, 100 * 11.0 / 12, time.Millisecond, time.Millisecond, time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, clock := newTestMonitor(Options{})
			for _, c := range tt.calls {
				m.RecordToolUsage("code_analysis", c.d, c.ok)
			}
			s := m.Sample(context.Background())
			got, ok := s.Tools["code_analysis"]
			if !ok {
				t.Fatalf("tool missing from snapshot: %v", s.Tools)
			}
			avg, _ := got.Average()
			if got.Count != tt.wantCount || got.Errors != tt.wantErrs || avg != tt.wantAvg || got.Min != tt.wantMin || got.Max != tt.wantMax {
				t.Errorf("count %d errors %d avg %v min %v max %v; want %d %d %v %v %v",
					got.Count, got.Errors, avg, got.Min, got.Max, tt.wantCount, tt.wantErrs, tt.wantAvg, tt.wantMin, tt.wantMax)
			}
			if sr := got.SuccessRate(); sr != tt.wantSuccess {
				t.Errorf("success rate %v, want %v", sr, tt.wantSuccess)
			}
			if !got.LastUsed.Equal(clock.Now()) {
				t.Errorf("last used %v, want %v", got.LastUsed, clock.Now())
			}
		})
	}
}

func repeat[T any](v T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestToolNamesBounded(t *testing.T) {
	m, _ := newTestMonitor(Options{MaxTools: 3})
	for _, name := range []string{"a", "b", "c", "d", "e", "a"} {
		m.RecordToolUsage(name, time.Millisecond, true)
	}
	long := strings.Repeat("x", 10000)
	m.RecordToolUsage(long, time.Millisecond, true)
	s := m.Sample(context.Background())
	if len(s.Tools) != 4 {
		t.Errorf("tools %v, want a, b, c and %s", keys(s.Tools), OtherTool)
	}
	if s.Tools["a"].Count != 2 || s.Tools[OtherTool].Count != 3 {
		t.Errorf("a=%d other=%d, want 2 and 3", s.Tools["a"].Count, s.Tools[OtherTool].Count)
	}
	if s.DroppedNames != 3 || s.Calls != 7 {
		t.Errorf("dropped %d calls %d, want 3 and 7", s.DroppedNames, s.Calls)
	}

	m2, _ := newTestMonitor(Options{})
	m2.RecordToolUsage(long, time.Millisecond, true)
	m2.RecordToolUsage("", time.Millisecond, true)
	for name := range m2.Sample(context.Background()).Tools {
		if len(name) > maxToolName || name == "" {
			t.Errorf("tool name of %d bytes kept", len(name))
		}
	}
}

func keys[V any](m map[string]V) []string { return sortedKeys(m) }

func TestRecordToolUsageDoesNotAllocate(t *testing.T) {
	fake, _ := newTestMonitor(Options{})
	for _, tt := range []struct {
		name string
		m    *Monitor
	}{
		{"fake clock", fake},
		// The coarse clock starts on the first call.
		{"real clock, not started", New(Options{DisableSystem: true})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.m.RecordToolUsage("enhanced_memory", time.Millisecond, true)
			allocs := testing.AllocsPerRun(1000, func() {
				tt.m.RecordToolUsage("enhanced_memory", 3*time.Millisecond, true)
				tt.m.ObserveQuery(time.Millisecond, nil)
				tt.m.RecordCacheLookup(true)
			})
			if allocs != 0 {
				t.Errorf("recording allocates %v times per call, want 0", allocs)
			}
		})
	}
}

func TestAllToolsLatency(t *testing.T) {
	m, _ := newTestMonitor(Options{})
	for i := 1; i <= 100; i++ {
		m.RecordToolUsage("fast", time.Duration(i)*time.Millisecond, true) // 1..100 ms
	}
	m.RecordToolUsage("slow", 10*time.Second, false)
	s := m.Sample(context.Background())
	p99, _ := s.Series(SeriesToolP99)
	p50, _ := s.Series(SeriesToolP50)
	// 101 calls: nearest-rank p99 is the 100th (100 ms), p50 the 51st.
	if !p99.OK || p99.Value < 100*(1-PercentileRelativeError) || p99.Value > 100*(1+PercentileRelativeError) {
		t.Errorf("all-tools p99 = %v ms, want about 100", p99)
	}
	if !p50.OK || p50.Value < 51*(1-PercentileRelativeError) || p50.Value > 51*(1+PercentileRelativeError) {
		t.Errorf("all-tools p50 = %v ms, want about 51", p50)
	}
	if s.ToolLatency.Count != 101 || s.ToolLatencyRecent.Count != 101 {
		t.Errorf("counts %d / %d", s.ToolLatency.Count, s.ToolLatencyRecent.Count)
	}
}
