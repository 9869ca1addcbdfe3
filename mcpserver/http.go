package mcpserver

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/httpguard"
)

// Defaults of HTTPOptions.
const (
	// DefaultSessionTimeout ends a session no request has used for this
	// long: a client that went away without DELETE must not hold its
	// session's memory for good.
	DefaultSessionTimeout = 30 * time.Minute
	// DefaultMaxSessions caps the live sessions of one handler.
	DefaultMaxSessions = 1000
)

// CodeTooManySessions is the JSON-RPC error code (in the range the
// specification leaves to servers) of the answer to an initialize that
// would exceed HTTPOptions.MaxSessions.
const CodeTooManySessions = -32000

// HTTPOptions configure HTTPHandler. The zero value keeps at most
// DefaultMaxSessions sessions, each until it has been idle for
// DefaultSessionTimeout.
type HTTPOptions struct {
	// SessionTimeout ends a session when no POST has used it for this
	// long. A client whose session ended gets 404 and starts a new one,
	// as the Streamable HTTP transport specifies.
	SessionTimeout time.Duration
	// AllowedHosts are the names, besides loopback ones, that requests may
	// carry in Host and Origin (see httpguard); others get 403. This check
	// replaces the SDK's own, which knows loopback only, so that a name
	// the listener allows reaches /mcp too.
	AllowedHosts []string
	// MaxSessions caps live sessions. A request that would start one more
	// gets HTTP 503 with a JSON-RPC error (CodeTooManySessions) carrying
	// its id, and nothing of it is kept.
	MaxSessions int
}

// HTTPHandler serves srv over the Streamable HTTP transport, one session
// per client, within the bounds of opts (nil means the defaults). A bad
// AllowedHosts entry is an error.
func HTTPHandler(srv *mcp.Server, opts *HTTPOptions) (http.Handler, error) {
	var o HTTPOptions
	if opts != nil {
		o = *opts
	}
	if o.SessionTimeout <= 0 {
		o.SessionTimeout = DefaultSessionTimeout
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = DefaultMaxSessions
	}
	guard, err := httpguard.New(httpguard.Options{AllowedHosts: o.AllowedHosts})
	if err != nil {
		return nil, fmt.Errorf("allowed hosts: %w", err)
	}
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{SessionTimeout: o.SessionTimeout, DisableLocalhostProtection: true})
	return guard.Handler(&sessionCap{next: sized{h}, srv: srv, max: o.MaxSessions}), nil
}

// sessionCap refuses requests that would start a session beyond max.
type sessionCap struct {
	next http.Handler
	srv  *mcp.Server
	max  int

	mu       sync.Mutex
	starting int // requests that may be starting a session right now
}

// maxIDPeek bounds what is read of a refused request to find its id.
const maxIDPeek = 64 << 10

func (c *sessionCap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Only a POST without a session id starts a session.
	if r.Method != http.MethodPost || r.Header.Get("Mcp-Session-Id") != "" {
		c.next.ServeHTTP(w, r)
		return
	}
	c.mu.Lock()
	// Sessions are counted on the server, so that those that ended by
	// DELETE, timeout or a failed initialize are not; starting ones are
	// counted too, so that a burst of initializes cannot overshoot.
	live := c.starting
	for ss := range c.srv.Sessions() {
		if ss.ID() != "" { // a stdio session has none and is not ours
			live++
		}
	}
	if live >= c.max {
		c.mu.Unlock()
		refuseSession(w, r, c.max)
		return
	}
	c.starting++
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.starting--
		c.mu.Unlock()
	}()
	c.next.ServeHTTP(w, r)
}

// refuseSession answers 503 with a JSON-RPC error for the request's id
// (null when the body holds no single request).
func refuseSession(w http.ResponseWriter, r *http.Request, max int) {
	var msg struct {
		ID json.RawMessage `json:"id"`
	}
	if b, err := io.ReadAll(io.LimitReader(r.Body, maxIDPeek)); err == nil {
		_ = json.Unmarshal(b, &msg)
	}
	id := msg.ID
	if len(id) == 0 || (id[0] != '"' && (id[0] < '0' || id[0] > '9') && id[0] != '-') {
		id = json.RawMessage("null")
	}
	body, _ := json.Marshal(map[string]any{
		"jsonrpc": "2.0",
		"id":      id,
		"error": &jsonrpc.Error{
			Code:    CodeTooManySessions,
			Message: fmt.Sprintf("too many MCP sessions: this server keeps at most %d (--max-sessions); try again when one ends", max),
		},
	})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Retry-After", "5")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write(append(body, '\n'))
}
