package monitor

import (
	"os/exec"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor/host"
)

func TestWatchProcess(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	m := New(Options{DisableSystem: true})
	m.WatchProcess("upstream", cmd.Process.Pid)
	m.Sample(t.Context())
	// Right after the fork the child may not have its own pages yet (RSS
	// reads 0 until exec completes): sample until it does.
	var s *Snapshot
	var p host.ProcessStats
	for deadline := time.Now().Add(10 * time.Second); ; {
		s = m.Sample(t.Context())
		p = s.Processes["upstream"]
		if p.RSSBytes.OK && p.RSSBytes.Value > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if p.PID != int32(cmd.Process.Pid) || !p.RSSBytes.OK || p.RSSBytes.Value <= 0 || !p.CPUPercent.OK {
		t.Errorf("watched process: %+v", p)
	}
	if r, ok := s.Series("process.upstream.rss_bytes"); !ok || !r.OK {
		t.Errorf("series: %v %v", r, ok)
	}
	if !KnownSeries("process.upstream.cpu_percent") {
		t.Error("process series unknown to rules")
	}
	m.UnwatchProcess("upstream")
	if s := m.Sample(t.Context()); len(s.Processes) != 0 {
		t.Errorf("unwatched process still read: %v", s.Processes)
	}
}
