package monitor

import (
	"strings"
	"sync/atomic"
	"time"
)

// OtherTool collects the calls to tool names beyond Options.MaxTools.
const OtherTool = "_other"

// maxToolName bounds a tool name's length; longer names are cut, so a
// hostile client cannot make the monitor hold megabyte-long keys.
const maxToolName = 128

// toolStats is the live state of one tool.
type toolStats struct {
	latencyStats
	lastUsed  atomic.Int64 // unix ns, coarse; read by every call, see touch
	_         linePad
	responses responseStats
}

// touch sets the tool's last use to ns, unix nanoseconds. The coarse clock
// moves ten times a second, so between its ticks the store is skipped: an
// atomic store costs as much as an atomic add (an exchange, on amd64) and,
// from several cores, moves the cache line each time, where a load of an
// unchanged value costs nearly nothing.
func (t *toolStats) touch(ns int64) {
	if t.lastUsed.Load() != ns {
		t.lastUsed.Store(ns)
	}
}

// RecordToolUsage records one call of the named tool that took d and
// succeeded when ok is true. A failed call is any call whose result was an
// error, including MCP tool results with isError set.
//
// It is the hot path of the monitor: safe for concurrent use, lock-free and
// allocation-free once the tool has been seen.
func (m *Monitor) RecordToolUsage(name string, d time.Duration, ok bool) {
	t := m.tools.get(name)
	if t == nil {
		t = m.addTool(name)
	}
	t.record(d, ok)
	t.touch(m.clock.unixNano())
}

// RecordToolCall is RecordToolUsage with the kind of failure: errorType is
// "" for a success, else a short stable name such as "tool_error" (an MCP
// result with isError set) or a JSON-RPC error code. Exporters label
// failures with it (OpenTelemetry's error.type). The number of distinct
// types per tool is bounded.
func (m *Monitor) RecordToolCall(name string, d time.Duration, errorType string) {
	t := m.tools.get(name)
	if t == nil {
		t = m.addTool(name)
	}
	t.recordType(d, errorType)
	t.touch(m.clock.unixNano())
}

// addTool is the slow path of the tool lookups (RecordToolUsage,
// RecordCall) for a name not seen before.
func (m *Monitor) addTool(name string) *toolStats {
	if len(name) > maxToolName {
		name = name[:maxToolName]
	}
	if name == "" {
		name = "(unnamed)"
	}
	if t := m.tools.get(name); t != nil {
		return t
	}
	mk := func() *toolStats {
		t := &toolStats{}
		t.init()
		return t
	}
	if t := m.tools.getOrAdd(strings.Clone(name), mk); t != nil {
		return t
	}
	m.droppedToolNames.Add(1)
	return m.otherTool.Load()
}
