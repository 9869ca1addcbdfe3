package monitor

import (
	"strings"
	"time"
)

// maxMethods bounds the distinct MCP method names tracked. The protocol
// has a few dozen; a client inventing names is counted under OtherMethod.
const maxMethods = 64

// OtherMethod collects calls to method names beyond the bound.
const OtherMethod = "_other"

// MethodToolsCall is the MCP method whose calls are also recorded per tool.
const MethodToolsCall = "tools/call"

// RecordMethod records one MCP request of the given method (such as
// "initialize", "tools/list" or "tools/call") that took d; errorType is ""
// for a success, else a short stable name (a JSON-RPC error code, or
// "tool_error" for a tool result with isError). Safe for concurrent use and
// allocation-free once the method has been seen.
//
// Tool calls are recorded twice by design: here as the method tools/call,
// and per tool with RecordToolCall.
func (m *Monitor) RecordMethod(method string, d time.Duration, errorType string) {
	m.method(method).recordType(d, errorType)
}

// method returns the stats the requests of method count in. tools/call,
// the method of nearly every request, is kept at hand and spares the map.
func (m *Monitor) method(name string) *latencyStats {
	if name == MethodToolsCall {
		return m.toolsCall
	}
	if l := m.methods.get(name); l != nil {
		return l
	}
	return m.addMethod(name)
}

func (m *Monitor) addMethod(method string) *latencyStats {
	if len(method) > maxToolName {
		method = method[:maxToolName]
	}
	if l := m.methods.getOrAdd(strings.Clone(method), newLatencyStats); l != nil {
		return l
	}
	return m.methods.getOrAdd(OtherMethod, newLatencyStats) // never nil: see New
}
