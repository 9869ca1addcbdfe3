package alert

import (
	"slices"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor/host"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// TestProcessCPURule drives the built-in process_cpu rule with this
// process's CPU while the host's is pinned at 99 % by other programs: the
// rule stays quiet while the process idles, a burst shorter than its `for`
// stays pending and is forgotten, and a core held for longer fires, then
// escalates, and makes the health critical.
func TestProcessCPURule(t *testing.T) {
	m, clock := newRig(Options{})
	steps := []struct {
		name    string
		process float64 // percent of one core
		samples int     // 10 s apart
		state   string  // of the process_cpu alert after the step; "" inactive
		level   Level
		notify  []string // process_cpu notifications during the step
	}{
		{name: "idle process, busy host", process: 0.27, samples: 12},
		{name: "burst of a minute", process: 97, samples: 6, state: StatePending, level: LevelCritical},
		{name: "burst over", process: 3, samples: 3},
		{name: "most of a core, under two minutes", process: 85, samples: 12, state: StatePending, level: LevelWarning},
		{name: "most of a core, two minutes", process: 85, samples: 1, state: StateFiring, level: LevelWarning,
			notify: []string{"firing:warning"}},
		{name: "a whole core, two minutes more", process: 99, samples: 13, state: StateFiring, level: LevelCritical,
			notify: []string{"escalated:critical"}},
	}
	for _, st := range steps {
		var got []string
		for range st.samples {
			clock.Advance(10 * time.Second)
			snap := &monitor.Snapshot{Time: clock.Now(), System: &host.Stats{
				CPUPercent: metric.Measured(99),
				Process:    host.ProcessStats{CPUPercent: metric.Measured(st.process)},
			}}
			for _, a := range m.evaluate(snap) {
				if a.Rule == RuleProcessCPU {
					got = append(got, string(a.Transition)+":"+string(a.Level))
				}
			}
		}
		if !slices.Equal(got, st.notify) {
			t.Errorf("%s: notified %q, want %q", st.name, got, st.notify)
		}
		var status Status
		for _, a := range m.Active() {
			if a.Rule == RuleProcessCPU {
				status = a
			}
		}
		if status.State != st.state || (st.state != "" && status.Level != st.level) {
			t.Errorf("%s: process_cpu is %q %q, want %q %q", st.name, status.State, status.Level, st.state, st.level)
		}
		if st.state != "" && status.Metric != monitor.SeriesProcessCPU {
			t.Errorf("%s: the alert watches %q, want %q", st.name, status.Metric, monitor.SeriesProcessCPU)
		}
	}
}

// TestProcessCPUThresholds checks that process_cpu is a built-in rule like
// the guide's: its levels can be set by name.
func TestProcessCPUThresholds(t *testing.T) {
	m, _ := newRig(Options{})
	if got := ThresholdsOf(m.Rules())[RuleProcessCPU]; got != (Threshold{processCPUWarning, processCPUCritical}) {
		t.Errorf("default process_cpu levels %+v", got)
	}
	if err := m.SetThresholds(map[string]Threshold{RuleProcessCPU: {Warning: 150, Critical: 300}}); err != nil {
		t.Fatal(err)
	}
	if got := ThresholdsOf(m.Rules())[RuleProcessCPU]; got != (Threshold{150, 300}) {
		t.Errorf("process_cpu levels after SetThresholds %+v", got)
	}
}
