package tunnel

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// Info is what the tunnel knows of the server behind it, for /api/config
// and the log. It holds nothing secret: the command's arguments and
// environment, which may carry keys, are left out, and an HTTP URL is
// shown without its credentials and query.
type Info struct {
	// Transport is "stdio" or "http".
	Transport string `json:"transport"`
	// Command is the program run (stdio).
	Command string `json:"command,omitempty"`
	// URL is the server's endpoint (HTTP), redacted.
	URL string `json:"url,omitempty"`
	// Server is the name and version from the server's initialize result;
	// nil until a client has initialized.
	Server *Implementation `json:"server_info,omitempty"`
	// ProtocolVersion is the MCP version the server agreed to.
	ProtocolVersion string `json:"protocol_version,omitempty"`
	// Up says whether the server is running (stdio) or answered the last
	// request (HTTP).
	Up bool `json:"up"`
	// PID is the running child's process id, 0 when none runs (stdio).
	PID int `json:"pid,omitempty"`
	// Restarts counts the children started after the first (stdio).
	Restarts int `json:"restarts"`
	// LastExit is the exit status of the last child that ended, as the
	// operating system describes it ("exit status 3", "signal: killed").
	LastExit string `json:"last_exit,omitempty"`
	// Since is when Up last changed.
	Since time.Time `json:"since,omitzero"`
	// ColdStart is how long the server took to become of use; nil until
	// it answered an initialize.
	ColdStart *ColdStart `json:"cold_start,omitempty"`
	// Bridge says the stdio server is served over HTTP, a child per
	// session (see Bridge), and Sessions how many are open; PID, Server
	// and ColdStart are then the newest session's child's.
	Bridge   bool `json:"bridge,omitempty"`
	Sessions int  `json:"sessions,omitempty"`
}

// ColdStart times a server's start: from its process's start (stdio, each
// child anew) or from the first initialize sent to it (HTTP), to its answer
// to initialize and to its first tools/list.
type ColdStart struct {
	InitializeMs float64 `json:"initialize_ms"`
	// ToolsListMs is 0 until the server answered a tools/list.
	ToolsListMs float64 `json:"tools_list_ms,omitempty"`
	from        time.Time
}

// listedAt is c with the first tools/list answered at; c itself once one
// was. A new value: an Info handed out shares its ColdStart.
func (c *ColdStart) listedAt(at time.Time) *ColdStart {
	if c == nil || c.ToolsListMs != 0 {
		return c
	}
	n := *c
	n.ToolsListMs = msSince(c.from, at)
	return &n
}

func msSince(from, to time.Time) float64 {
	return float64(to.Sub(from).Microseconds()) / 1000
}

// Ready returns nil when the server can take requests as far as the
// tunnel knows, else why not, for a readiness probe. A stdio server must
// be running. An HTTP server must have answered the last request sent to
// it; one not asked anything yet counts as ready, since the tunnel learns
// of an HTTP server only from its clients' requests and a probe must not
// send requests of its own.
func (i Info) Ready() error {
	switch {
	case i.Up:
		return nil
	case (i.Transport == "http" || i.Bridge) && i.Since.IsZero():
		// Learnt of from the clients' requests (HTTP), or started for
		// them (a bridge's children): none yet is no fault.
		return nil
	case i.Transport == "http":
		return fmt.Errorf("the upstream MCP server has not answered since %s", i.Since.UTC().Format(time.RFC3339))
	case i.Since.IsZero():
		return errors.New("the upstream MCP server has not started")
	case i.LastExit != "":
		return fmt.Errorf("the upstream MCP server is down since %s (%s)", i.Since.UTC().Format(time.RFC3339), i.LastExit)
	}
	return fmt.Errorf("the upstream MCP server is down since %s", i.Since.UTC().Format(time.RFC3339))
}

// infoState guards an Info; it changes a few times in a server's life.
type infoState struct {
	mu   sync.Mutex
	info Info
}

func (s *infoState) get() Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.info
	if out.Server != nil {
		impl := *out.Server
		out.Server = &impl
	}
	return out
}

func (s *infoState) update(fn func(*Info)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(&s.info)
}

// setUp records a change of Up, with its time.
func (s *infoState) setUp(up bool) {
	s.update(func(i *Info) {
		if i.Up != up || i.Since.IsZero() {
			i.Up, i.Since = up, time.Now()
		}
	})
}
