package tunnel

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// Names the tunnel registers on the monitor.
const (
	// GaugeUpstreamUp is the application gauge that is 1 while the server
	// is running (stdio) or answering (HTTP), and 0 when it is not.
	GaugeUpstreamUp = "upstream_up"
	// RuleUpstreamDown is the alert rule on GaugeUpstreamUp: critical
	// below 1.
	RuleUpstreamDown = "upstream_down"
	// GaugeUpstreamTools is the number of tools in the server's latest
	// tools/list, registered by the proxy from its catalogue; unavailable
	// until a list was seen. RuleUpstreamNoTools warns while it is 0.
	GaugeUpstreamTools  = "upstream_tools"
	RuleUpstreamNoTools = "upstream_no_tools"
	// GaugeCatalogDrift is how many differences the server's latest
	// tools/list has from the first one seen (tools added or removed,
	// descriptions or schemas changed); RuleCatalogChanged warns while
	// there are any.
	GaugeCatalogDrift  = "tool_catalog_drift"
	RuleCatalogChanged = "tool_catalog_changed"
	// ProcessName is the name the child is watched under
	// (Snapshot.Processes, series process.upstream.*).
	ProcessName = "upstream"

	// Custom counters, shown in the report's custom_metrics. For HTTP, a
	// request body or an SSE event counts as a line.
	CounterMalformed           = "tunnel_malformed_lines"
	CounterOversized           = "tunnel_oversized_lines"
	CounterClientNotifications = "tunnel_client_notifications"
	CounterServerNotifications = "tunnel_server_notifications"
	CounterUnmatched           = "tunnel_unmatched_responses"
	CounterDropped             = "tunnel_dropped_lines"
	CounterUntracked           = "tunnel_untracked_requests"
	CounterRestarts            = "tunnel_upstream_restarts"
)

// maxPending bounds the requests awaiting a response in each direction, so
// a peer that never answers cannot grow memory without end. Requests beyond
// it are relayed but not timed (CounterUntracked).
const maxPending = 1 << 16

// meters are the tunnel's figures on the monitor. Every method is safe for
// concurrent use and lock-free.
type meters struct {
	m                                   *monitor.Monitor
	transport                           string // monitor.TransportStdio or TransportHTTP
	malformed, oversized                *monitor.Counter
	clientNotes, serverNotes            *monitor.Counter
	unmatched, dropped, untracked, rest *monitor.Counter
	// up is upUnknown until the first start (stdio) or answer (HTTP).
	up atomic.Int32
	// children are the running children of the stdio tunnels sharing
	// these meters; pooled says there may be several (a Bridge's).
	pooled   bool
	childMu  sync.Mutex
	children []int // pids, in the order they started
}

const (
	upUnknown int32 = iota
	upNo
	upYes
)

// newMeters registers the tunnel's counters and its upstream gauge on m.
func newMeters(m *monitor.Monitor, transport string) (*meters, error) {
	if m == nil {
		return nil, errors.New("tunnel: a monitor is required")
	}
	mt := &meters{
		m:           m,
		transport:   transport,
		malformed:   m.Counter(CounterMalformed),
		oversized:   m.Counter(CounterOversized),
		clientNotes: m.Counter(CounterClientNotifications),
		serverNotes: m.Counter(CounterServerNotifications),
		unmatched:   m.Counter(CounterUnmatched),
		dropped:     m.Counter(CounterDropped),
		untracked:   m.Counter(CounterUntracked),
		rest:        m.Counter(CounterRestarts),
	}
	if err := m.RegisterGauge(GaugeUpstreamUp, mt.readUp); err != nil {
		return nil, err
	}
	return mt, nil
}

// UpstreamDownRule is the alert rule on GaugeUpstreamUp: critical while
// the upstream server is down. Add it to the engine judging the tunnel's
// monitor once the tunnel exists (rules on an application gauge are
// accepted only once the gauge is registered).
func UpstreamDownRule() alert.Rule {
	return alert.Rule{
		Name:      RuleUpstreamDown,
		Metric:    GaugeUpstreamUp,
		Direction: alert.Below,
		Critical:  alert.Ptr(1),
		// Back at 1 the alert clears; the default hysteresis would ask
		// for 1.05, which a 0-or-1 gauge never reaches.
		ClearCritical: alert.Ptr(1),
		Advice:        "the MCP server behind pbatunnel proxy is not running or not answering; its stderr and the proxy's log say why",
	}
}

// UpstreamNoToolsRule is the alert rule a proxy adds on GaugeUpstreamTools:
// a warning while the server's latest tools/list holds no tool, which an
// agent sees as a server that can do nothing.
func UpstreamNoToolsRule() alert.Rule {
	return alert.Rule{
		Name:         RuleUpstreamNoTools,
		Metric:       GaugeUpstreamTools,
		Direction:    alert.Below,
		Warning:      alert.Ptr(1),
		ClearWarning: alert.Ptr(1),
		Advice:       "the MCP server behind pbatunnel proxy lists no tools: it failed to load them, or lost its configuration; its stderr may say why",
	}
}

// CatalogChangedRule is the alert rule a proxy adds on GaugeCatalogDrift:
// a warning while the server's tools differ from those it first listed,
// which an agent may follow without knowing (a "rug pull").
func CatalogChangedRule() alert.Rule {
	return alert.Rule{
		Name:      RuleCatalogChanged,
		Metric:    GaugeCatalogDrift,
		Direction: alert.Above,
		Warning:   alert.Ptr(0.5), // any difference
		Advice:    "the MCP server's tools changed since it first listed them: GET /api/catalog lists what changed, before and after",
	}
}

func (mt *meters) readUp() (float64, error) {
	switch mt.up.Load() {
	case upYes:
		return 1, nil
	case upNo:
		return 0, nil
	}
	return 0, errors.New("the upstream server has not been reached yet")
}

// childStarted notes a child that runs: the server is up, and the process
// watched is the newest child.
func (mt *meters) childStarted(pid int) {
	mt.childMu.Lock()
	defer mt.childMu.Unlock()
	mt.children = append(mt.children, pid)
	mt.m.WatchProcess(ProcessName, pid)
	mt.setUp(true)
}

// childExited notes a child's exit; expected says it was asked to end (its
// client left, or the tunnel stops). A lone tunnel's server is down once
// its child exits. In a pool, a child whose session ended leaves the
// server up; one that exited by itself puts it down until a child starts
// again. The process watched is then the newest child left.
func (mt *meters) childExited(pid int, expected bool) {
	mt.childMu.Lock()
	defer mt.childMu.Unlock()
	mt.children = slices.DeleteFunc(mt.children, func(p int) bool { return p == pid })
	if n := len(mt.children); n > 0 {
		mt.m.WatchProcess(ProcessName, mt.children[n-1])
	} else {
		mt.m.UnwatchProcess(ProcessName)
	}
	if !mt.pooled || !expected {
		mt.setUp(false)
	}
}

func (mt *meters) setUp(up bool) {
	if up {
		mt.up.Store(upYes)
	} else {
		mt.up.Store(upNo)
	}
}
