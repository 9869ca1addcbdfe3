package mcpserver

import (
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// A stdioExchange is the exchange of a request read over stdio, and the
// RequestExtra by which the metrics middleware finds it.
type stdioExchange struct {
	ex  *exchange
	key *mcp.RequestExtra
}

// measure gives req, a request the SDK is about to handle, an exchange
// holding the size its line had, found through the RequestExtra it is
// given (the SDK's stdio transport sets none).
func (f *framing) measure(req *jsonrpc.Request) {
	if !req.IsCall() || req.Extra != nil {
		return
	}
	key, ex := &mcp.RequestExtra{}, &exchange{id: idText(req.ID)}
	f.mu.Lock()
	size, ok := f.sizes[req.ID]
	delete(f.sizes, req.ID)
	var stale *mcp.RequestExtra
	if ok {
		if old, had := f.exchanges[req.ID]; had {
			stale = old.key // an exchange whose answer never came
		}
		f.exchanges[req.ID] = stdioExchange{ex: ex, key: key}
	}
	f.mu.Unlock()
	if stale != nil {
		exchanges.Delete(stale)
	}
	if !ok {
		return
	}
	ex.request.Store(size)
	exchanges.Store(key, ex)
	req.Extra = key
}

// responded records n, the size of the response to id, with its call,
// or forgets the exchange unmeasured (n = 0: the response was dropped).
func (f *framing) responded(id jsonrpc.ID, n int) {
	f.mu.Lock()
	se, ok := f.exchanges[id]
	delete(f.exchanges, id)
	f.mu.Unlock()
	if !ok {
		return
	}
	exchanges.Delete(se.key)
	se.ex.respond(int64(n))
}

// forgetExchanges drops the exchanges of requests never answered, once
// the session has ended.
func (f *framing) forgetExchanges() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, se := range f.exchanges {
		exchanges.Delete(se.key)
		delete(f.exchanges, id)
	}
	clear(f.sizes)
}
