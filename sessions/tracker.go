package sessions

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// Defaults used when an Options field is zero.
const (
	DefaultKeepEnded = 100
	DefaultMaxLive   = 1000
	DefaultIdle      = 30 * time.Minute
	DefaultEvery     = time.Second
	// maxToolsPerSession bounds a session's per-tool counts; further tools
	// are counted under OtherTool.
	maxToolsPerSession = 64
)

// methodDiscover is the stateless discovery of SEP-2575.
const methodDiscover = "server/discover"

// OtherTool holds the calls of a session's tools beyond the first 64.
const OtherTool = "_other"

// Options configure a Tracker. The zero value is a good default for every
// field.
type Options struct {
	// KeepEnded bounds the ended sessions kept. Default 100.
	KeepEnded int
	// MaxLive bounds the live sessions followed; past it, the one quiet
	// longest is ended to make room. Default 1000, as serve's
	// --max-sessions.
	MaxLive int
	// Idle ends a session after this long without a call. Default 30 min,
	// as serve's --session-timeout.
	Idle time.Duration
	// Every is how often Run reads the ring. Default 1 s: with the default
	// ring of 10 000 calls, no call is missed below 10 000 calls a second.
	Every time.Duration
	// Now is the clock of Idle. Default: the monitor's.
	Now func() time.Time
	// OnEnd, when set, is told of each session as it ends, for the
	// session duration metrics. It runs under the tracker's lock: it
	// must not call the tracker.
	OnEnd func(Session)
}

// A Tracker follows the sessions and clients of a monitor's calls. Create
// one with New; all methods are safe for concurrent use.
type Tracker struct {
	m    *monitor.Monitor
	opts Options

	mu     sync.Mutex
	seen   uint64 // the newest call read
	missed uint64
	live   map[key]*session
	ended  []*session // oldest first, at most KeepEnded
	// gone are the last ids transports ended, oldest first in goneOrder,
	// so that a late call of one (a request racing the DELETE) does not
	// bring the session back.
	gone      map[key]struct{}
	goneOrder []key
}

// keepGone bounds the ended ids remembered.
const keepGone = 4096

// key identifies a session: over stdio there is one per process, without
// an id.
type key struct {
	transport, id string
}

// New returns a tracker of m's calls from now on: calls recorded before
// it are not counted.
func New(m *monitor.Monitor, opts Options) *Tracker {
	if opts.KeepEnded <= 0 {
		opts.KeepEnded = DefaultKeepEnded
	}
	if opts.MaxLive <= 0 {
		opts.MaxLive = DefaultMaxLive
	}
	if opts.Idle <= 0 {
		opts.Idle = DefaultIdle
	}
	if opts.Every <= 0 {
		opts.Every = DefaultEvery
	}
	if opts.Now == nil {
		opts.Now = m.Now
	}
	return &Tracker{m: m, opts: opts, seen: m.LastCallID(), live: map[key]*session{}, gone: map[key]struct{}{}}
}

// Run reads the ring every Options.Every until ctx ends, then returns nil.
func (t *Tracker) Run(ctx context.Context) error {
	tick := time.NewTicker(t.opts.Every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			t.Update()
		}
	}
}

// Update reads the calls recorded since the last read, and ends the
// sessions idle for longer than Options.Idle.
func (t *Tracker) Update() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.updateLocked()
}

func (t *Tracker) updateLocked() {
	if last := t.m.LastCallID(); last > t.seen {
		t.readLocked(last)
	}
	now := t.opts.Now()
	for k, s := range t.live {
		if now.Sub(s.lastSeen) > t.opts.Idle {
			t.endLocked(k, s, s.lastSeen.Add(t.opts.Idle), EndIdle)
		}
	}
}

// readLocked reads the calls after t.seen up to last, oldest first. A call
// numbered but not yet stored by its recorder (it is storing it this
// microsecond) stops the read there, to be read next time; calls the
// ring has already overwritten are counted as missed.
func (t *Tracker) readLocked(last uint64) {
	var batch []monitor.Call // newest first, as the ring yields them
	for c := range t.m.CallsBefore(last + 1) {
		if c.ID <= t.seen {
			break
		}
		batch = append(batch, c)
	}
	next := t.seen + 1
	if ring := uint64(max(t.m.Options().CallRing, 0)); last-next >= ring {
		// The slot of call next has been written over: everything before
		// the oldest call still kept is gone.
		oldest := last + 1
		if len(batch) > 0 {
			oldest = batch[len(batch)-1].ID
		}
		t.missed += oldest - next
		next = oldest
	}
	for i := len(batch) - 1; i >= 0 && batch[i].ID == next; i-- {
		t.add(&batch[i])
		next++
	}
	t.seen = next - 1
}

// add counts one call into its session. Notifications are not calls of a
// session (nothing answers them); server/discover is the stateless probe a
// client may send before it opens a session (SEP-2575), and opens none.
func (t *Tracker) add(c *monitor.Call) {
	if strings.HasPrefix(c.Method, "notifications/") {
		return
	}
	k := key{c.Transport, c.Session}
	if _, ok := t.gone[k]; ok {
		return // a late call of a session its transport ended
	}
	s := t.live[k]
	if s == nil && c.Method == methodDiscover {
		return
	}
	if s == nil {
		if len(t.live) >= t.opts.MaxLive {
			t.evictLocked()
		}
		s = newSession(k, c)
		t.live[k] = s
	}
	s.add(c)
}

// evictLocked ends the live session quiet longest, to make room.
func (t *Tracker) evictLocked() {
	var oldest *session
	var ok key
	for k, s := range t.live {
		if oldest == nil || s.lastSeen.Before(oldest.lastSeen) {
			oldest, ok = s, k
		}
	}
	if oldest != nil {
		t.endLocked(ok, oldest, t.opts.Now(), EndEvicted)
	}
}

// End records that a transport ended the session with id (Streamable HTTP:
// deleted or expired; "" over stdio: the client went away). Calls of it
// still unread are counted first.
func (t *Tracker) End(transport, id string, why string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.updateLocked()
	k := key{transport, id}
	if s := t.live[k]; s != nil {
		t.endLocked(k, s, t.opts.Now(), why)
	}
	if _, ok := t.gone[k]; !ok && id != "" {
		// An id is never reused; a late call of it stays out. Stdio's
		// empty id is the next client's too.
		t.gone[k] = struct{}{}
		t.goneOrder = append(t.goneOrder, k)
		if len(t.goneOrder) > keepGone {
			delete(t.gone, t.goneOrder[0])
			t.goneOrder = t.goneOrder[1:]
		}
	}
}

func (t *Tracker) endLocked(k key, s *session, at time.Time, why string) {
	delete(t.live, k)
	s.ended, s.endReason = at, why
	if t.opts.OnEnd != nil {
		t.opts.OnEnd(s.view())
	}
	t.ended = append(t.ended, s)
	if n := len(t.ended) - t.opts.KeepEnded; n > 0 {
		t.ended = slices.Delete(t.ended, 0, n)
	}
}

// Missed is how many calls were recorded but never read, because more
// arrived between two reads than the monitor's ring keeps.
func (t *Tracker) Missed() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.missed
}

// Sessions returns the live sessions, most recently active first, then the
// ended ones kept, most recently ended first, as of every call recorded
// before it was asked.
func (t *Tracker) Sessions() []Session {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.updateLocked()
	out := make([]Session, 0, len(t.live)+len(t.ended))
	for _, s := range t.live {
		out = append(out, s.view())
	}
	slices.SortFunc(out, func(a, b Session) int {
		return cmp.Or(b.LastSeen.Compare(a.LastSeen), cmp.Compare(a.ID, b.ID))
	})
	for i := len(t.ended) - 1; i >= 0; i-- {
		out = append(out, t.ended[i].view())
	}
	return out
}

// Clients returns the sessions kept, live and ended, summed by client
// name, the most calls first.
func (t *Tracker) Clients() []Client {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.updateLocked()
	by := map[string]*clientSum{}
	add := func(s *session) {
		c := by[s.client.Name]
		if c == nil {
			c = &clientSum{}
			by[s.client.Name] = c
		}
		c.add(s)
	}
	for _, s := range t.live {
		add(s)
	}
	for _, s := range t.ended {
		add(s)
	}
	out := make([]Client, 0, len(by))
	for name, c := range by {
		out = append(out, c.view(name))
	}
	slices.SortFunc(out, func(a, b Client) int {
		return cmp.Or(cmp.Compare(b.Calls, a.Calls), cmp.Compare(a.Name, b.Name))
	})
	return out
}
