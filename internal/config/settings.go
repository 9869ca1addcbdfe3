package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/capture"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/httppost"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// Defaults for the settings that have one of their own. The retention and
// window settings default to zero, which the monitor reads as its own
// default, so the numbers live in one place.
const (
	DefaultAddr      = "127.0.0.1:8080"
	DefaultInterval  = 30 * time.Second
	DefaultLogFormat = LogText
	// DefaultPollInterval is the guide's auto-refresh period.
	DefaultPollInterval = 30 * time.Second
	// DefaultSessionTimeout ends idle Streamable HTTP sessions: a client
	// that went away without DELETE must not hold memory for good.
	DefaultSessionTimeout = 30 * time.Minute
	// DefaultMaxSessions caps live Streamable HTTP sessions.
	DefaultMaxSessions = 1000
	// MaxCallRing bounds --call-ring. The ring's slots, about 250 bytes
	// each, are allocated when the monitor is built, before the first
	// call: a million is some 250 MB at start (and up to about 600 MB once
	// every call has failed with a long error), 100 times the default.
	// Past that, the number is far likelier a slip of the keyboard than a
	// need, and would cost gigabytes before anything is served.
	MaxCallRing = 1_000_000
)

// Log formats accepted by --log-format.
const (
	LogText = "text"
	LogJSON = "json"
)

// EnvPrefix starts the name of every environment variable read.
const EnvPrefix = "PBATUNNEL_"

// Settings are what a command runs with once flags, environment and config
// file have been merged.
type Settings struct {
	Addr     string        // host:port of the dashboard
	Interval time.Duration // time between samples
	DataDir  string        // absolute once resolved
	// Store is the PostgreSQL database (postgres://…) that holds the
	// memory store and knowledge graph; "" means the SQLite file
	// memory.db in DataDir.
	Store      string
	ConfigFile string // "" when none was given
	LogFormat  string // LogText or LogJSON
	LogLevel   slog.Level

	// Only the config file sets these; zero means the monitor's default.
	MaxSamples   int
	MaxAge       time.Duration
	RecentWindow time.Duration
	TrendWindow  time.Duration

	// CallRing is how many recent calls the monitor keeps in memory for
	// /api/calls, the stream's calls and /api/sessions; from 1 to
	// MaxCallRing (see CheckCallRing).
	CallRing int

	// Alerts is the config file's alerts section; its zero value means
	// the built-in rules and the log handler.
	Alerts Alerts

	// AuthToken protects the dashboard; required beyond loopback. Flag and
	// environment only: a secret has no place in a config file that gets
	// committed.
	AuthToken string
	// AllowedHosts are the names, besides loopback ones, that requests to
	// every listener may carry in Host and Origin.
	AllowedHosts []string
	// SessionTimeout and MaxSessions bound the MCP server's Streamable
	// HTTP sessions.
	SessionTimeout time.Duration
	MaxSessions    int
	// PollInterval is how often the page polls while its live stream is
	// down.
	PollInterval time.Duration
	// ExportURL receives the JSON report after every sample; ExportFile is
	// rewritten with it.
	ExportURL  string
	ExportFile string

	// Stdio serves MCP on standard input and output instead of (not beside)
	// the HTTP endpoint's clients; the dashboard still starts when it can.
	Stdio bool
	// AllowRoots are the directories code_analysis may read; none means
	// the working directory.
	AllowRoots []string

	// CapturePayloads keeps each call's arguments and result, redacted and
	// cut to CaptureMaxBytes; RedactKeys name the keys whose values are
	// redacted (nil: capture.DefaultRedactKeys).
	CapturePayloads bool
	CaptureMaxBytes int
	RedactKeys      []string

	// OTLPEndpoint is where traces and metrics go over OTLP ("": as the
	// OTEL_EXPORTER_OTLP_* environment says, else nowhere); OTLPProtocol
	// is "http/protobuf" or "grpc" ("": OTEL_EXPORTER_OTLP_PROTOCOL).
	OTLPEndpoint string
	OTLPProtocol string
	// TraceURLTemplate links a call to its trace on the page: the URL
	// with {trace_id} in it, such as http://localhost:16686/trace/{trace_id}.
	TraceURLTemplate string
}

// Defaults returns the settings used when nothing else is given. DataDir is
// left empty: Resolve derives it from the environment.
func Defaults() Settings {
	return Settings{
		Addr:            DefaultAddr,
		Interval:        DefaultInterval,
		LogFormat:       DefaultLogFormat,
		LogLevel:        slog.LevelInfo,
		PollInterval:    DefaultPollInterval,
		SessionTimeout:  DefaultSessionTimeout,
		MaxSessions:     DefaultMaxSessions,
		CaptureMaxBytes: capture.DefaultMaxBytes,
		CallRing:        monitor.DefaultCallRing,
	}
}

// RegisterFlags defines on fs one flag per setting that has a flag, each
// bound to the matching field of s, with the field's current value as the
// default.
func (s *Settings) RegisterFlags(fs *flag.FlagSet) {
	fs.Var((*addrValue)(&s.Addr), "addr", "`host:port` the dashboard will listen on")
	fs.Var((*intervalValue)(&s.Interval), "interval", "`duration` between samples, at least "+MinInterval.String())
	fs.StringVar(&s.ConfigFile, "config", s.ConfigFile, "YAML config `file` (see docs/CONFIG.md)")
	fs.StringVar(&s.DataDir, "data-dir", s.DataDir,
		"`directory` for state kept between runs (default $XDG_DATA_HOME/pbatunnel or ~/.local/share/pbatunnel)")
	s.RegisterStoreFlag(fs)
	fs.Var((*logFormatValue)(&s.LogFormat), "log-format", "log line `format`: text or json")
	fs.TextVar(&s.LogLevel, "log-level", s.LogLevel, "lowest `level` logged: debug, info, warn or error")
	fs.Var((*tokenValue)(&s.AuthToken), "auth-token",
		"bearer `token` the dashboard and API require (needed to listen beyond loopback; prefer PBATUNNEL_AUTH_TOKEN, which ps does not show)")
	fs.Var((*hostsValue)(&s.AllowedHosts), "allowed-host",
		"`host` name or address, besides loopback ones, that requests may name in Host and Origin (repeatable; comma-separated in the environment; \"*\" allows every host)")
	fs.Var((*positiveDuration)(&s.SessionTimeout), "session-timeout", "end MCP Streamable HTTP sessions idle this long (`duration`)")
	fs.Var((*positiveInt)(&s.MaxSessions), "max-sessions", "most live MCP Streamable HTTP sessions; past it, new ones get 503 (`count`)")
	fs.Var((*callRingValue)(&s.CallRing), "call-ring",
		"recent calls kept in memory for /api/calls, the live call log and /api/sessions, from 1 to "+strconv.Itoa(MaxCallRing)+" (`count`)")
	fs.Var((*positiveDuration)(&s.PollInterval), "poll-interval", "how often the page polls while its live stream is down (`duration`)")
	fs.Var((*httpURLValue)(&s.ExportURL), "export-url", "POST the JSON report to this http(s) `URL` after every sample")
	fs.StringVar(&s.ExportFile, "export-file", s.ExportFile, "rewrite this JSON `file` with the report after every sample (atomically)")
	fs.BoolVar(&s.Stdio, "stdio", s.Stdio, "serve MCP on stdin/stdout, for clients that launch their servers; the dashboard still starts if its port is free")
	fs.BoolVar(&s.CapturePayloads, "capture-payloads", s.CapturePayloads,
		"keep each call's arguments and result (redacted, cut to --capture-max-bytes) for the call log; off by default")
	fs.Var((*positiveInt)(&s.CaptureMaxBytes), "capture-max-bytes", "with --capture-payloads, the most `bytes` kept of a call's arguments, and of its result")
	fs.Var((*keysValue)(&s.RedactKeys), "redact-key",
		"`key` name whose values captured payloads redact (repeatable; comma-separated in the environment; replaces the default list: "+strings.Join(capture.DefaultRedactKeys, ", ")+")")
	fs.Var((*httpURLValue)(&s.OTLPEndpoint), "otlp-endpoint",
		"send OpenTelemetry traces and metrics over OTLP to this `URL` (http://host:4318 for HTTP, http://host:4317 with --otlp-protocol grpc); off by default, or as OTEL_EXPORTER_OTLP_ENDPOINT says")
	fs.Var((*otlpProtocolValue)(&s.OTLPProtocol), "otlp-protocol", "OTLP `protocol`: http/protobuf or grpc (default: OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf)")
	fs.Var((*traceURLValue)(&s.TraceURLTemplate), "trace-url-template",
		"link each call on the page to its trace at this `URL`, in which {trace_id} is replaced, e.g. http://localhost:16686/trace/{trace_id}")
	fs.Var((*rootsValue)(&s.AllowRoots), "allow-root", "`directory` code_analysis may read (repeatable; default: the working directory, unless it is /, your home directory or above it: then none)")
}

// RegisterStoreFlag defines --store on fs, bound to s.Store: for the
// commands that open the memory store without the rest of the settings.
func (s *Settings) RegisterStoreFlag(fs *flag.FlagSet) {
	fs.Var(&storeValue{url: &s.Store}, "store",
		"keep the memory store and knowledge graph in this PostgreSQL database (a postgres:// `URL`; the password is better in PGPASSWORD or ~/.pgpass) instead of the SQLite file memory.db in --data-dir")
}

// Public is the settings as /api/config shows them: secrets left out or
// redacted.
func (s *Settings) Public() map[string]any {
	out := map[string]any{
		"addr":                  s.Addr,
		"interval":              s.Interval.String(),
		"data_dir":              s.DataDir,
		"config_file":           s.ConfigFile,
		"store":                 RedactStore(s.Store),
		"auth_token":            "",
		"poll_interval":         s.PollInterval.String(),
		"export_file":           s.ExportFile,
		"export_url":            "",
		"retention_max_samples": s.MaxSamples,
		"call_ring":             s.CallRing,
		"stdio":                 s.Stdio,
		"allow_roots":           s.AllowRoots,
		"allowed_hosts":         s.AllowedHosts,
		"session_timeout":       s.SessionTimeout.String(),
		"max_sessions":          s.MaxSessions,
		"capture_payloads":      s.CapturePayloads,
		"capture_max_bytes":     s.CaptureMaxBytes,
		"redact_keys":           s.EffectiveRedactKeys(),
		"otlp_endpoint":         "",
		"otlp_protocol":         s.OTLPProtocol,
		"trace_url_template":    s.TraceURLTemplate,
	}
	if u, err := httppost.ParseURL(s.OTLPEndpoint); err == nil {
		out["otlp_endpoint"] = httppost.RedactURL(u)
	}
	if s.AuthToken != "" {
		out["auth_token"] = "(set)"
	}
	if u, err := httppost.ParseURL(s.ExportURL); err == nil {
		out["export_url"] = httppost.RedactURL(u)
	}
	return out
}

// EnvVar returns the environment variable that stands in for a flag:
// "data-dir" becomes "PBATUNNEL_DATA_DIR".
func EnvVar(flagName string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Resolve completes s after fs, whose flags RegisterFlags bound to s, has
// parsed the command line. Every flag not given on the command line is taken
// from its environment variable when that is set and not empty; then
// settings still unset are taken from the config file named by --config or
// PBATUNNEL_CONFIG; the rest keep their defaults. lookupEnv is os.LookupEnv
// outside tests.
//
// A bad environment value is an error naming the variable; a bad config file
// is an error naming the file, line and key.
func (s *Settings) Resolve(fs *flag.FlagSet, lookupEnv func(string) (string, bool)) error {
	given := map[string]bool{}
	var errs []error
	fs.Visit(func(f *flag.Flag) {
		given[f.Name] = true
		if c, ok := f.Value.(checkedValue); ok && c.check() != nil {
			errs = append(errs, fmt.Errorf("--%s: %w", f.Name, c.check()))
		}
	})

	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	for _, name := range names {
		if given[name] {
			continue
		}
		env := EnvVar(name)
		v, ok := lookupEnv(env)
		if !ok || v == "" {
			continue
		}
		if err := fs.Set(name, v); err != nil {
			errs = append(errs, fmt.Errorf("environment variable %s: invalid value %q: %w", env, v, err))
			continue
		}
		if c, ok := fs.Lookup(name).Value.(checkedValue); ok && c.check() != nil {
			errs = append(errs, fmt.Errorf("environment variable %s: %w", env, c.check()))
			continue
		}
		given[name] = true
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	if s.ConfigFile != "" {
		f, err := Load(s.ConfigFile)
		if err != nil {
			return fmt.Errorf("loading config: %w", err)
		}
		s.applyFile(f, given)
	}

	if s.DataDir == "" {
		dir, err := defaultDataDir(lookupEnv)
		if err != nil {
			return err
		}
		s.DataDir = dir
	}
	dir, err := filepath.Abs(s.DataDir)
	if err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	s.DataDir = dir
	return nil
}

// applyFile copies the values present in f into s, except those a flag or
// environment variable already set.
func (s *Settings) applyFile(f *File, given map[string]bool) {
	if f.Addr != "" && !given["addr"] {
		s.Addr = f.Addr
	}
	if f.DataDir != "" && !given["data-dir"] {
		s.DataDir = f.DataDir
	}
	if f.Store != "" && !given["store"] {
		s.Store = f.Store
	}
	if f.Interval != nil && !given["interval"] {
		s.Interval = time.Duration(*f.Interval)
	}
	if f.Retention.MaxSamples != nil {
		s.MaxSamples = *f.Retention.MaxSamples
	}
	if f.Retention.MaxAge != nil {
		s.MaxAge = time.Duration(*f.Retention.MaxAge)
	}
	if f.RecentWindow != nil {
		s.RecentWindow = time.Duration(*f.RecentWindow)
	}
	if f.TrendWindow != nil {
		s.TrendWindow = time.Duration(*f.TrendWindow)
	}
	if f.CallRing != nil && !given["call-ring"] {
		s.CallRing = *f.CallRing
	}
	if len(f.AllowedHosts) > 0 && !given["allowed-host"] {
		s.AllowedHosts = f.AllowedHosts
	}
	if f.SessionTimeout != nil && !given["session-timeout"] {
		s.SessionTimeout = time.Duration(*f.SessionTimeout)
	}
	if f.MaxSessions != nil && !given["max-sessions"] {
		s.MaxSessions = *f.MaxSessions
	}
	if f.CapturePayloads != nil && !given["capture-payloads"] {
		s.CapturePayloads = *f.CapturePayloads
	}
	if f.CaptureMaxBytes != nil && !given["capture-max-bytes"] {
		s.CaptureMaxBytes = *f.CaptureMaxBytes
	}
	if f.RedactKeys != nil && !given["redact-key"] {
		s.RedactKeys = f.RedactKeys
	}
	if f.OTLPEndpoint != "" && !given["otlp-endpoint"] {
		s.OTLPEndpoint = f.OTLPEndpoint
	}
	if f.OTLPProtocol != "" && !given["otlp-protocol"] {
		s.OTLPProtocol = f.OTLPProtocol
	}
	if f.TraceURLTemplate != "" && !given["trace-url-template"] {
		s.TraceURLTemplate = f.TraceURLTemplate
	}
	s.Alerts = f.Alerts
}

// defaultDataDir follows the XDG base directory convention, which ignores a
// relative XDG_DATA_HOME.
func defaultDataDir(lookupEnv func(string) (string, bool)) (string, error) {
	if x, ok := lookupEnv("XDG_DATA_HOME"); ok && filepath.IsAbs(x) {
		return filepath.Join(x, "pbatunnel"), nil
	}
	if home, ok := lookupEnv("HOME"); ok && home != "" {
		return filepath.Join(home, ".local", "share", "pbatunnel"), nil
	}
	return "", fmt.Errorf("no data directory: set --data-dir, %s or HOME", EnvVar("data-dir"))
}

// EffectiveRedactKeys are the keys captured payloads redact: RedactKeys,
// or the default list.
func (s *Settings) EffectiveRedactKeys() []string {
	if s.RedactKeys == nil {
		return capture.DefaultRedactKeys
	}
	return s.RedactKeys
}
