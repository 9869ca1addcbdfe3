package monitor

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor/host"
)

// watched are processes besides this one that the sampler reads, such as
// the MCP server a tunnel runs as its child.
type watched struct {
	mu    sync.Mutex
	procs map[string]*host.Process
}

// WatchProcess has every sample read the CPU, memory, threads and open
// files of process pid, reported under name (Snapshot.Processes, series
// "process.<name>.<figure>"). Watching a name again replaces its process,
// as after a restart. Safe for concurrent use.
func (m *Monitor) WatchProcess(name string, pid int) {
	m.watched.mu.Lock()
	defer m.watched.mu.Unlock()
	if m.watched.procs == nil {
		m.watched.procs = map[string]*host.Process{}
	}
	m.watched.procs[name] = host.NewProcess(int32(pid))
}

// UnwatchProcess stops reading the named process.
func (m *Monitor) UnwatchProcess(name string) {
	m.watched.mu.Lock()
	defer m.watched.mu.Unlock()
	delete(m.watched.procs, name)
}

// collectWatched reads every watched process. The collectors are used by
// the sampler only (under sampleMu); the lock guards the map.
func (w *watched) collect(ctx context.Context, now time.Time) map[string]host.ProcessStats {
	w.mu.Lock()
	names := make([]string, 0, len(w.procs))
	for n := range w.procs {
		names = append(names, n)
	}
	procs := make([]*host.Process, len(names))
	sort.Strings(names)
	for i, n := range names {
		procs[i] = w.procs[n]
	}
	w.mu.Unlock()
	if len(names) == 0 {
		return nil
	}
	out := make(map[string]host.ProcessStats, len(names))
	for i, n := range names {
		out[n] = procs[i].Collect(ctx, now)
	}
	return out
}
