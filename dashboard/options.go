package dashboard

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/capture"
	"github.com/mcp-pba-tunnel/pbatunnel/catalog"
	"github.com/mcp-pba-tunnel/pbatunnel/sessions"
)

// Defaults used when an Options field is zero.
const (
	DefaultAddr         = "127.0.0.1:8080"
	DefaultPollInterval = 30 * time.Second
	// MaxHistorySpan bounds /api/history's since parameter.
	MaxHistorySpan = 7 * 24 * time.Hour
)

// Options configure the dashboard. The zero value serves on 127.0.0.1:8080
// without authentication.
type Options struct {
	// Addr is where to listen. A non-loopback address requires AuthToken.
	Addr string
	// AuthToken, when set, must be presented as "Authorization: Bearer
	// <token>" on every route but the probes (/api/health, /livez,
	// /readyz) and the page's static files (which hold no data).
	AuthToken string
	// AllowedHosts are the names, besides loopback ones, that requests may
	// carry in Host and Origin (see httpguard.Options). Every other request
	// gets 403, on every route: a web page must not drive the dashboard or
	// what is mounted beside it through DNS rebinding.
	AllowedHosts []string
	// BodyTimeout bounds the reading of a request's body (not the
	// streaming of its response). Default httpguard.DefaultBodyTimeout.
	BodyTimeout time.Duration
	// PollInterval is how often the page polls while its live stream is
	// down (the guide's auto-refresh). Default 30 s.
	PollInterval time.Duration
	// Config returns the effective configuration for /api/config, secrets
	// already redacted. Nil shows the monitor's own settings only.
	Config func() any
	// Alerts is the engine judging the monitor, whose rules, alerts and
	// handlers /api/alerts, /api/config, /metrics and the stream show and
	// /api/health is judged by. Nil: no rules, and health from the
	// figures alone.
	Alerts *alert.Engine
	// Sessions follows the sessions and clients that /api/sessions shows.
	// Nil: it shows none.
	Sessions *sessions.Tracker
	// Catalog is the tool catalogue /api/catalog shows. Nil: it shows none.
	Catalog *catalog.Catalog
	// Payloads are the calls' captured arguments and results that
	// /api/calls/{id} shows. Nil: capture is off, and it says so.
	Payloads *capture.Store
	// Mount adds handlers to the same listener, by ServeMux pattern (for
	// example the MCP endpoint at "/mcp").
	Mount map[string]http.Handler
	// Logger receives the server's own errors. Default slog.Default().
	Logger *slog.Logger

	// Ready are the conditions /readyz checks, such as the store
	// answering or, in a proxy, the proxied server being up. None: /readyz
	// answers 200 while the server serves.
	Ready []Check
	// CheckTimeout bounds each check of Ready. Default DefaultCheckTimeout.
	CheckTimeout time.Duration
	// StaleAfter is how old the latest sample may grow before /livez
	// answers 503, the sampler being stuck. Default three sampling
	// intervals plus 10 s.
	StaleAfter time.Duration

	// now is the probes' clock; tests replace it.
	now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Addr == "" {
		o.Addr = DefaultAddr
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}
