package mcpserver

import (
	"net/http"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// Sizes on the wire. The SDK hands middleware a decoded request and takes
// back a typed result: neither the bytes the client sent nor those it is
// answered with. The transports see those bytes (the stdio framing its
// lines, the HTTP layer its bodies); an exchange carries what they measure
// to the call the metrics middleware records.
//
// The middleware finds a request's exchange by the request's RequestExtra,
// which codedConn sets as a stdio request is read, or by the header map of
// its HTTP request, which the SDK passes on as RequestExtra.Header. Both
// are unique to one request while it is served.

// An exchange is one request on the wire and the response sent for it.
type exchange struct {
	request atomic.Int64 // the request message's size; 0 until measured
	batch   atomic.Bool  // an HTTP body holding a batch: its size is not one request's
	// id is the request's JSON-RPC id as text, when known; peer the
	// client's address (HTTP). Both are set before the exchange is found.
	id, peer string

	mu       sync.Mutex
	m        *monitor.Monitor
	callID   uint64
	tool     string
	response int64 // measured before the call was recorded
}

// bind ties the exchange to the call recorded as id; a response measured
// already joins the call now.
func (e *exchange) bind(m *monitor.Monitor, id uint64, tool string) {
	e.mu.Lock()
	e.m, e.callID, e.tool = m, id, tool
	n := e.response
	e.mu.Unlock()
	if n > 0 {
		m.RecordResponse(id, tool, n, 0)
	}
}

// respond records n, the size of the response message, with the call.
func (e *exchange) respond(n int64) {
	if n <= 0 {
		return
	}
	e.mu.Lock()
	m, id, tool := e.m, e.callID, e.tool
	if m == nil {
		e.response = n
	}
	e.mu.Unlock()
	if m != nil {
		m.RecordResponse(id, tool, n, 0)
	}
}

// exchanges holds the exchanges of the requests being served, by
// *mcp.RequestExtra (stdio) or headerKey (HTTP). Their keys are unique
// in the process, so one table serves every server.
var exchanges sync.Map

// headerKey is the key of an HTTP request's exchange: its header map,
// by identity.
func headerKey(h http.Header) any {
	return reflect.ValueOf(h).UnsafePointer()
}

// exchangeOf returns the exchange of req, or nil when its transport did
// not measure it.
func exchangeOf(req mcp.Request) *exchange {
	extra := req.GetExtra()
	if extra == nil {
		return nil
	}
	if e, ok := exchanges.Load(extra); ok {
		return e.(*exchange)
	}
	if extra.Header == nil {
		return nil
	}
	if e, ok := exchanges.Load(headerKey(extra.Header)); ok && !e.(*exchange).batch.Load() {
		return e.(*exchange)
	}
	return nil
}
