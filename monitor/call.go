package monitor

import (
	"strings"
	"time"
)

// Transports a Call can arrive over.
const (
	TransportStdio = "stdio"
	TransportHTTP  = "http"
)

// maxCallError bounds the error message a Call keeps.
const maxCallError = 256

// A Call is one MCP request as the server or the tunnel saw it: what was
// asked, by whom, over what, and how it ended. The MCP server's middleware
// and the tunnel build one per request and hand it to RecordCall, which
// updates the counters and keeps it for the readers of recent calls.
//
// A field that was not measured is left at its zero value: a size of 0
// bytes cannot be a real message's, and an empty string is no name.
type Call struct {
	// ID is set by RecordCall: a sequence number, unique in the monitor,
	// growing with each call recorded.
	ID uint64
	// Start is when the request arrived; Duration how long until its
	// answer went out.
	Start    time.Time
	Duration time.Duration
	// Method is the MCP method ("tools/call", "resources/read"...).
	Method string
	// Tool is the tool of a tools/call.
	Tool string
	// UnknownTool says the server has no tool of that name: the call
	// counts against its method, but makes no tool of its own, so that a
	// client cannot invent tools.
	UnknownTool bool
	// FromServer marks a request the server sent to the client (roots/list,
	// sampling, elicitation), which the tunnel sees pass the other way.
	FromServer bool
	// Session is the MCP session id (Streamable HTTP); empty over stdio.
	Session string
	// Client is the client's name and version from its initialize.
	Client ClientInfo
	// Protocol is the MCP protocol version the session agreed on, set on
	// the initialize call that agreed it (the others leave it empty).
	Protocol string
	// Transport is TransportStdio or TransportHTTP.
	Transport string
	// ErrorType is "" for a success, else the short, stable kind of
	// failure: ErrorTypeTool, ErrorTypeCancelled, a JSON-RPC error code.
	ErrorType string
	// Error is the failure's message, cut to 256 bytes.
	Error string
	// RequestBytes and ResponseBytes are the sizes of the messages on the
	// wire, when the recorder saw them.
	RequestBytes, ResponseBytes int64
	// TraceID and SpanID tie the call to its span, when one was
	// recorded; zero otherwise.
	TraceID [16]byte
	SpanID  [8]byte
	// ResponseTokens is the response's size in model tokens, when counted.
	ResponseTokens int64
}

// ClientInfo names an MCP client as its initialize request does.
type ClientInfo struct {
	Name    string
	Version string
}

// OK reports whether the call succeeded.
func (c *Call) OK() bool { return c.ErrorType == "" }

// RecordCall records one MCP request: per method (as RecordMethod does)
// and, for tools/call of a known tool, per tool (as RecordToolCall does),
// with the response's size when known; then it keeps the call in the ring
// of recent calls and hands it to subscribers (SubscribeCalls) without
// waiting for them. The duration's buckets are found once for the method
// and the tool.
//
// It keeps the strings of c: they should not pin large buffers (a method
// name cut out of a megabyte line would keep the line). An Error longer
// than 256 bytes is copied shorter. Safe for concurrent use;
// allocation-free once the method and tool have been seen and as long as
// the error is short.
func (m *Monitor) RecordCall(c Call) uint64 {
	o := observe(c.Duration)
	m.method(c.Method).recordObs(o, c.ErrorType)
	if c.Method == MethodToolsCall && !c.UnknownTool {
		t := m.tools.get(c.Tool)
		if t == nil {
			t = m.addTool(c.Tool)
		}
		t.recordObs(o, c.ErrorType)
		t.touch(m.clock.unixNano())
		t.responses.addBytes(c.ResponseBytes)
	}
	if len(c.Error) > maxCallError {
		c.Error = cutError(c.Error)
	}
	return m.calls.add(&c)
}

// cutError copies the first maxCallError bytes of msg, not splitting a
// UTF-8 sequence, so that the ring does not pin a long message.
func cutError(msg string) string {
	n := maxCallError
	for n > 0 && msg[n]&0xC0 == 0x80 {
		n--
	}
	return strings.Clone(msg[:n])
}
