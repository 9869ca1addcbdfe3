package dashboard

import (
	"encoding/json"
	"sync"
	"sync/atomic"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// reportCache keeps the encoded report of the latest sample. A report is a
// pure function of the snapshot and the history before it, so it is built
// once per sample however many clients ask: that is what lets /api/metrics
// serve thousands of requests a second on two cores, where building it per
// request (trends walk the whole trend window) would not.
type reportCache struct {
	m   *monitor.Monitor
	cur atomic.Pointer[cachedReport]
	mu  sync.Mutex // one build at a time
}

type cachedReport struct {
	seq   uint64 // 0: before the first sample
	json  []byte
	tools []byte
}

// get returns the report of snapshot s (the latest when nil).
func (c *reportCache) get(s *monitor.Snapshot) *cachedReport {
	if s == nil {
		s = c.m.Latest()
	}
	var seq uint64
	if s != nil {
		seq = s.Seq
	}
	cur := c.cur.Load()
	if cur != nil && cur.seq == seq && seq != 0 {
		return cur
	}
	// While another request builds the new report, serve the previous one
	// rather than queue behind the build: under load that keeps the tail
	// latency flat when a sample lands.
	if cur != nil && cur.seq != 0 && cur.seq < seq {
		if !c.mu.TryLock() {
			return cur
		}
	} else {
		c.mu.Lock()
	}
	defer c.mu.Unlock()
	if r := c.cur.Load(); r != nil && r.seq == seq && seq != 0 {
		return r
	}
	rep := c.m.ReportOf(s)
	r := &cachedReport{seq: seq}
	var err error
	if r.json, err = json.Marshal(rep); err != nil {
		r.json, _ = json.Marshal(map[string]string{"error": "encoding report: " + err.Error()})
	}
	if r.tools, err = json.Marshal(rep.ToolMetrics); err != nil {
		r.tools = []byte("{}")
	}
	// Only a newer report replaces the cached one: a slow build for an
	// old snapshot must not undo a newer one.
	if old := c.cur.Load(); old == nil || old.seq <= seq {
		c.cur.Store(r)
	}
	return r
}
