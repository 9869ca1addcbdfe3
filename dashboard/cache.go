package dashboard

import (
	"bytes"
	"encoding/json"
	"sync"
	"sync/atomic"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/report"
)

// reportCache keeps the report of the latest sample, encoded. A report is a
// pure function of the snapshot and the history before it, so it is built
// once per sample however many clients ask: that is what lets /api/metrics
// serve thousands of requests a second on two cores, where building it per
// request (trends walk the whole trend window) would not. It is also what
// makes the sampled readers agree: /api/metrics (JSON and text), /api/tools
// and the stream's sample events are all cuts of one cachedReport.
type reportCache struct {
	m   *monitor.Monitor
	cur atomic.Pointer[cachedReport]
	mu  sync.Mutex // one build at a time
	// builds counts the reports built, the work the cache exists to save.
	builds atomic.Uint64
}

// cachedReport is one report in the forms its readers serve.
type cachedReport struct {
	seq   uint64 // 0: before the first sample
	json  []byte
	tools []byte
	// text is the plain-text report, rendered on first use: most samples
	// are never asked for as text.
	text func() []byte
}

// latest returns the report of the latest sample, for a request. While
// another request builds the report of a sample that just landed, it
// returns the previous one rather than queue behind the build: under load
// that keeps the tail latency flat when a sample lands, at the price of
// answering one sample late for the milliseconds a build takes.
func (c *reportCache) latest() *cachedReport {
	return c.get(c.m.Latest(), true)
}

// of returns the report of snapshot s exactly, waiting for a build of it
// in progress: the stream sends each sample once, as itself.
func (c *reportCache) of(s *monitor.Snapshot) *cachedReport {
	return c.get(s, false)
}

func (c *reportCache) get(s *monitor.Snapshot, mayLag bool) *cachedReport {
	var seq uint64
	if s != nil {
		seq = s.Seq
	}
	cur := c.cur.Load()
	if cur != nil && seq != 0 && (cur.seq == seq || mayLag && cur.seq > seq) {
		return cur
	}
	if mayLag && cur != nil && cur.seq != 0 && cur.seq < seq {
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
	c.builds.Add(1)
	rep := report.For(c.m, s)
	r := &cachedReport{seq: seq}
	var err error
	if r.json, err = json.Marshal(rep); err != nil {
		r.json, _ = json.Marshal(map[string]string{"error": "encoding report: " + err.Error()})
	}
	if r.tools, err = json.Marshal(rep.ToolMetrics); err != nil {
		r.tools = []byte("{}")
	}
	r.text = sync.OnceValue(func() []byte {
		var b bytes.Buffer
		_ = rep.WriteText(&b) // a bytes.Buffer does not fail
		return b.Bytes()
	})
	// Only a newer report replaces the cached one: a slow build for an
	// old snapshot must not undo a newer one.
	if old := c.cur.Load(); old == nil || old.seq <= seq {
		c.cur.Store(r)
	}
	return r
}
