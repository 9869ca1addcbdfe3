package sessions

import (
	"slices"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// Why a session ended.
const (
	// EndClosed: the transport closed it (an HTTP DELETE, the stdio client
	// closing its input).
	EndClosed = "closed"
	// EndExpired: the server expired it (serve's --session-timeout).
	EndExpired = "expired"
	// EndIdle: no call for Options.Idle.
	EndIdle = "idle"
	// EndEvicted: ended to make room for a new one past Options.MaxLive.
	EndEvicted = "evicted"
)

// session is one session's running figures.
type session struct {
	key
	client    monitor.ClientInfo
	protocol  string
	started   time.Time
	lastSeen  time.Time
	ended     time.Time
	endReason string

	calls, errors                uint64
	requestBytes, responseBytes  int64
	responseTokens, tokenedCalls int64
	durations                    monitor.Durations
	tools                        map[string]*ToolCount
}

func newSession(k key, c *monitor.Call) *session {
	return &session{key: k, started: c.Start, tools: map[string]*ToolCount{}}
}

// add counts c.
func (s *session) add(c *monitor.Call) {
	if c.Client.Name != "" || c.Client.Version != "" {
		s.client = c.Client
	}
	if c.Protocol != "" {
		s.protocol = c.Protocol
	}
	if c.Start.Before(s.started) {
		s.started = c.Start
	}
	if end := c.Start.Add(c.Duration); end.After(s.lastSeen) {
		s.lastSeen = end
	}
	s.calls++
	if !c.OK() {
		s.errors++
	}
	s.durations.Add(c.Duration)
	s.requestBytes += max(c.RequestBytes, 0)
	s.responseBytes += max(c.ResponseBytes, 0)
	if c.ResponseTokens > 0 {
		s.responseTokens += c.ResponseTokens
		s.tokenedCalls++
	}
	if c.Method != monitor.MethodToolsCall || c.Tool == "" {
		return
	}
	name := c.Tool
	if c.UnknownTool || (s.tools[name] == nil && len(s.tools) >= maxToolsPerSession) {
		name = OtherTool
	}
	tc := s.tools[name]
	if tc == nil {
		tc = &ToolCount{}
		s.tools[name] = tc
	}
	tc.Calls++
	if !c.OK() {
		tc.Errors++
	}
}

// Session is one session as Tracker.Sessions reports it.
type Session struct {
	// ID is the Streamable HTTP session id; "" over stdio.
	ID        string
	Transport string
	Client    monitor.ClientInfo
	// Protocol is the MCP version agreed at initialize; "" if the
	// tracker did not see it.
	Protocol string
	// Started is the first call's start; LastSeen the latest call's end.
	Started, LastSeen time.Time
	// Ended is zero while the session is live; EndReason says why it ended.
	Ended     time.Time
	EndReason string
	Calls     uint64
	Errors    uint64
	// P50 and P95 are of the session's call durations, within
	// monitor.PercentileRelativeError.
	P50, P95 time.Duration
	// RequestBytes and ResponseBytes sum the calls whose sizes were
	// measured; ResponseTokens the calls whose tokens were counted, of
	// which there were TokenedCalls.
	RequestBytes, ResponseBytes  int64
	ResponseTokens, TokenedCalls int64
	// Tools counts calls and failures by tool.
	Tools map[string]ToolCount
}

// ToolCount is one tool's calls in a session.
type ToolCount struct {
	Calls  uint64 `json:"calls"`
	Errors uint64 `json:"errors"`
}

func (s *session) view() Session {
	v := Session{
		ID: s.id, Transport: s.transport, Client: s.client, Protocol: s.protocol,
		Started: s.started, LastSeen: s.lastSeen, Ended: s.ended, EndReason: s.endReason,
		Calls: s.calls, Errors: s.errors,
		RequestBytes: s.requestBytes, ResponseBytes: s.responseBytes,
		ResponseTokens: s.responseTokens, TokenedCalls: s.tokenedCalls,
		Tools: make(map[string]ToolCount, len(s.tools)),
	}
	v.P50, _ = s.durations.Percentile(0.50)
	v.P95, _ = s.durations.Percentile(0.95)
	for name, tc := range s.tools {
		v.Tools[name] = *tc
	}
	return v
}

// Client is one client name's sessions summed.
type Client struct {
	// Name is the clientInfo name; "" for clients that gave none.
	Name string
	// Versions are the versions its sessions gave, in the order first seen.
	Versions                     []string
	Sessions, LiveSessions       int
	Calls, Errors                uint64
	P50, P95                     time.Duration
	LastSeen                     time.Time
	RequestBytes, ResponseBytes  int64
	ResponseTokens, TokenedCalls int64
}

type clientSum struct {
	v         Client
	durations monitor.Durations
}

func (c *clientSum) add(s *session) {
	v := &c.v
	v.Sessions++
	if s.ended.IsZero() {
		v.LiveSessions++
	}
	if ver := s.client.Version; ver != "" && !slices.Contains(v.Versions, ver) {
		v.Versions = append(v.Versions, ver)
	}
	v.Calls += s.calls
	v.Errors += s.errors
	if s.lastSeen.After(v.LastSeen) {
		v.LastSeen = s.lastSeen
	}
	v.RequestBytes += s.requestBytes
	v.ResponseBytes += s.responseBytes
	v.ResponseTokens += s.responseTokens
	v.TokenedCalls += s.tokenedCalls
	c.durations.Merge(&s.durations)
}

func (c *clientSum) view(name string) Client {
	v := c.v
	v.Name = name
	v.P50, _ = c.durations.Percentile(0.50)
	v.P95, _ = c.durations.Percentile(0.95)
	return v
}
