package dashboard

import (
	"net/http"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/sessions"
)

// sessionsResponse is GET /api/sessions.
type sessionsResponse struct {
	Sessions []sessionJSON   `json:"sessions"`
	Clients  []clientSumJSON `json:"clients"`
	// MissedCalls counts calls recorded but never read into a session,
	// because more arrived between two reads than the ring keeps.
	MissedCalls uint64 `json:"missed_calls"`
}

type sessionJSON struct {
	ID              string                        `json:"id"`
	Client          clientJSON                    `json:"client"`
	Transport       string                        `json:"transport"`
	ProtocolVersion string                        `json:"protocol_version"`
	Started         string                        `json:"started"`
	LastSeen        string                        `json:"last_seen"`
	Ended           *string                       `json:"ended"`
	EndReason       string                        `json:"end_reason,omitempty"`
	Calls           uint64                        `json:"calls"`
	Errors          uint64                        `json:"errors"`
	P50Ms           float64                       `json:"p50_ms"`
	P95Ms           float64                       `json:"p95_ms"`
	RequestBytes    *int64                        `json:"request_bytes"`
	ResponseBytes   *int64                        `json:"response_bytes"`
	ResponseTokens  *int64                        `json:"response_tokens"`
	Tools           map[string]sessions.ToolCount `json:"tools"`
}

type clientSumJSON struct {
	Name           string   `json:"name"`
	Versions       []string `json:"versions"`
	Sessions       int      `json:"sessions"`
	LiveSessions   int      `json:"live_sessions"`
	Calls          uint64   `json:"calls"`
	Errors         uint64   `json:"errors"`
	P50Ms          float64  `json:"p50_ms"`
	P95Ms          float64  `json:"p95_ms"`
	LastSeen       string   `json:"last_seen"`
	RequestBytes   *int64   `json:"request_bytes"`
	ResponseBytes  *int64   `json:"response_bytes"`
	ResponseTokens *int64   `json:"response_tokens"`
}

// measured is n, or null when nothing was measured: a sum of sizes is 0
// only when no size was.
func measured(n int64) *int64 {
	if n <= 0 {
		return nil
	}
	return &n
}

func stamp(t time.Time) string { return t.UTC().Format(monitor.TimeFormat) }

func sessionOf(s *sessions.Session) sessionJSON {
	v := sessionJSON{
		ID: s.ID, Client: clientJSON{Name: s.Client.Name, Version: s.Client.Version},
		Transport: s.Transport, ProtocolVersion: s.Protocol,
		Started: stamp(s.Started), LastSeen: stamp(s.LastSeen), EndReason: s.EndReason,
		Calls: s.Calls, Errors: s.Errors, P50Ms: durationMs(s.P50), P95Ms: durationMs(s.P95),
		RequestBytes: measured(s.RequestBytes), ResponseBytes: measured(s.ResponseBytes),
		ResponseTokens: measured(s.ResponseTokens), Tools: s.Tools,
	}
	if s.TokenedCalls == 0 {
		v.ResponseTokens = nil
	}
	if !s.Ended.IsZero() {
		e := stamp(s.Ended)
		v.Ended = &e
	}
	return v
}

func clientSumOf(c *sessions.Client) clientSumJSON {
	v := clientSumJSON{
		Name: c.Name, Versions: c.Versions, Sessions: c.Sessions, LiveSessions: c.LiveSessions,
		Calls: c.Calls, Errors: c.Errors, P50Ms: durationMs(c.P50), P95Ms: durationMs(c.P95), LastSeen: stamp(c.LastSeen),
		RequestBytes: measured(c.RequestBytes), ResponseBytes: measured(c.ResponseBytes),
		ResponseTokens: measured(c.ResponseTokens),
	}
	if v.Versions == nil {
		v.Versions = []string{}
	}
	if c.TokenedCalls == 0 {
		v.ResponseTokens = nil
	}
	return v
}

// sessions serves GET /api/sessions: the live sessions, most recently
// active first, then the recently ended ones, and the same summed by
// client name, as of every call recorded before the request.
func (a *api) sessions(w http.ResponseWriter, r *http.Request) {
	if !checkParams(w, r) {
		return
	}
	res := sessionsResponse{Sessions: []sessionJSON{}, Clients: []clientSumJSON{}}
	if t := a.opts.Sessions; t != nil {
		ss, cs := t.Sessions(), t.Clients()
		for i := range ss {
			res.Sessions = append(res.Sessions, sessionOf(&ss[i]))
		}
		for i := range cs {
			res.Clients = append(res.Clients, clientSumOf(&cs[i]))
		}
		res.MissedCalls = t.Missed()
	}
	writeJSON(w, http.StatusOK, res)
}
