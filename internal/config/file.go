// Package config reads pbatunnel's YAML config file and merges it with
// command-line flags and PBATUNNEL_* environment variables into the Settings
// a command runs with. Precedence is flag > environment > file > default.
package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/httpguard"
)

// MinInterval is the shortest sampling interval accepted. Below it the
// sampler would spend a noticeable share of a core measuring itself.
const MinInterval = 100 * time.Millisecond

// File is the content of a config file. Pointer fields are nil when the key
// is absent, so that an explicit zero ("max_samples: 0") is reported as an
// error instead of silently meaning "default". New sections are added as new
// fields with a yaml tag; Load checks keys against the struct by reflection,
// so nothing else needs to change to accept them.
type File struct {
	// Addr is the host:port the dashboard listens on.
	Addr string `yaml:"addr"`
	// DataDir holds the state pbatunnel keeps between runs. A relative path
	// is relative to the directory of the config file.
	DataDir string `yaml:"data_dir"`
	// Store is the PostgreSQL database of the memory store (--store).
	Store string `yaml:"store"`
	// Interval is the time between samples.
	Interval *Duration `yaml:"interval"`
	// Retention bounds the sample history.
	Retention Retention `yaml:"retention"`
	// RecentWindow is the span of the "recent" latency percentiles.
	RecentWindow *Duration `yaml:"recent_window"`
	// TrendWindow is the span trends are computed over.
	TrendWindow *Duration `yaml:"trend_window"`
	// CallRing is how many recent calls are kept (--call-ring).
	CallRing *int `yaml:"call_ring"`
	// AllowedHosts are the host names, besides loopback ones, that
	// requests may carry in Host and Origin (--allowed-host).
	AllowedHosts []string `yaml:"allowed_hosts"`
	// SessionTimeout ends a Streamable HTTP session idle this long.
	SessionTimeout *Duration `yaml:"session_timeout"`
	// MaxSessions caps the live Streamable HTTP sessions.
	MaxSessions *int `yaml:"max_sessions"`
	// CapturePayloads keeps each call's arguments and result, redacted
	// (--capture-payloads).
	CapturePayloads *bool `yaml:"capture_payloads"`
	// CaptureMaxBytes bounds what is kept of each (--capture-max-bytes).
	CaptureMaxBytes *int `yaml:"capture_max_bytes"`
	// RedactKeys name the keys whose values are redacted (--redact-key).
	RedactKeys []string `yaml:"redact_keys"`
	// OTLPEndpoint, OTLPProtocol and TraceURLTemplate: --otlp-endpoint,
	// --otlp-protocol, --trace-url-template.
	OTLPEndpoint     string `yaml:"otlp_endpoint"`
	OTLPProtocol     string `yaml:"otlp_protocol"`
	TraceURLTemplate string `yaml:"trace_url_template"`
	// Alerts configures alert rules and notifications.
	Alerts Alerts `yaml:"alerts"`
	// SLO sets the service level objectives of "alerts export".
	SLO SLO `yaml:"slo"`
}

// Retention bounds the sample history; whichever limit is tighter wins.
type Retention struct {
	MaxSamples *int      `yaml:"max_samples"`
	MaxAge     *Duration `yaml:"max_age"`
}

// A FieldError reports a problem with one key of a config file.
type FieldError struct {
	File string // path of the config file; empty when validating a File built in code
	Line int    // 1-based line of the key; 0 when unknown
	// Key is the dotted path of the key, such as "retention.max_age". A
	// rule's index is followed by its name, when it has one:
	// "alerts.rules[1] (slow_memory_tool).warning".
	Key string
	Err error

	// unit is the key of the smallest part of the file the error is
	// about, such as "alerts.rules[1]"; "" means Key. A value that did not
	// decode taints its unit, whose half-decoded fields then prove
	// nothing.
	unit string
}

func (e *FieldError) Error() string {
	var b bytes.Buffer
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *FieldError) Unwrap() error { return e.Err }

// ErrUnknownKey is wrapped by the FieldError for a key the schema does not
// have, which is most often a typo that would otherwise be ignored.
var ErrUnknownKey = errors.New("unknown key")

// Load reads and validates the config file at path. Unknown keys, values of
// the wrong type and out-of-range values are errors; each names the file,
// the line and the key. An empty file is valid and sets nothing.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := parse(path, data)
	if err != nil {
		return nil, err
	}
	if f.DataDir != "" && !filepath.IsAbs(f.DataDir) {
		f.DataDir = filepath.Join(filepath.Dir(path), f.DataDir)
	}
	return f, nil
}

func parse(path string, data []byte) (*File, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f := new(File)
	if root.Kind == 0 { // empty document
		return f, nil
	}
	lines := map[string]int{}
	if errs := checkSchema(&root, f, lines); len(errs) > 0 {
		// Decode leniently what can be decoded so that out-of-range values
		// are reported in the same run as the schema errors, except within
		// the parts already reported: their half-decoded values mean
		// nothing.
		_ = root.Decode(f)
		tainted := map[string]bool{}
		for _, e := range errs {
			for k := e.Key; k != ""; k = parentKey(k) {
				tainted[k] = true
			}
		}
		for _, e := range f.validate() {
			if !tainted[e.unitKey()] {
				errs = append(errs, e)
			}
		}
		f.place(errs, lines)
		return nil, withFile(path, errs)
	}
	// checkSchema has already decoded every value on its own, so this decode
	// is not expected to fail; KnownFields keeps it strict should the two
	// ever disagree.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if errs := f.validate(); len(errs) > 0 {
		f.place(errs, lines)
		return nil, withFile(path, errs)
	}
	return f, nil
}

func (e *FieldError) unitKey() string {
	if e.unit != "" {
		return e.unit
	}
	return e.Key
}

// place puts each error on the line of its key, or, for a key that is not
// in the file (a required one, say), of the nearest enclosing key that is;
// then it names the rules.
func (f *File) place(errs []*FieldError, lines map[string]int) {
	for _, e := range errs {
		for k := e.Key; k != "" && e.Line == 0; k = parentKey(k) {
			e.Line = lines[k]
		}
	}
	f.Alerts.nameRules(errs)
}

// nameRules adds the rule's name after its index in the key of every error
// about a named rule, so that "alerts.rules[3].warning" reads
// "alerts.rules[3] (slow_memory_tool).warning": a person finds a rule by
// its name sooner than by counting.
func (a *Alerts) nameRules(errs []*FieldError) {
	const prefix = "alerts.rules["
	for _, e := range errs {
		rest, ok := strings.CutPrefix(e.Key, prefix)
		if !ok {
			continue
		}
		idx, tail, ok := strings.Cut(rest, "]")
		if !ok {
			continue
		}
		i, err := strconv.Atoi(idx)
		if err != nil || i < 0 || i >= len(a.Rules) || a.Rules[i].Name == "" {
			continue
		}
		e.Key = fmt.Sprintf("%s%d] (%s)%s", prefix, i, a.Rules[i].Name, tail)
	}
}

// parentKey returns the key enclosing key: "alerts.rules[1]" for
// "alerts.rules[1].for", "alerts.rules" for "alerts.rules[1]", "" for a
// top-level key.
func parentKey(key string) string {
	i := strings.LastIndexAny(key, ".[")
	if i < 0 {
		return ""
	}
	return key[:i]
}

// withFile sets the file of every error and joins them in line order.
func withFile(path string, errs []*FieldError) error {
	slices.SortStableFunc(errs, func(a, b *FieldError) int { return cmp.Compare(a.Line, b.Line) })
	joined := make([]error, len(errs))
	for i, e := range errs {
		e.File = path
		joined[i] = e
	}
	return errors.Join(joined...)
}

// Validate reports every out-of-range value in f, each as a *FieldError
// naming the key.
func (f *File) Validate() error {
	errs := f.validate()
	f.Alerts.nameRules(errs)
	return joinFieldErrors(errs)
}

func joinFieldErrors(errs []*FieldError) error {
	joined := make([]error, len(errs))
	for i, e := range errs {
		joined[i] = e
	}
	return errors.Join(joined...)
}

func (f *File) validate() []*FieldError {
	var errs []*FieldError
	check := func(key string, err error) {
		if err != nil {
			errs = append(errs, &FieldError{Key: key, Err: err})
		}
	}
	if f.Store != "" {
		check("store", CheckStore(f.Store))
	}
	if f.Addr != "" {
		check("addr", CheckAddr(f.Addr))
	}
	if f.Interval != nil {
		check("interval", CheckInterval(time.Duration(*f.Interval)))
	}
	if n := f.Retention.MaxSamples; n != nil && *n < 1 {
		check("retention.max_samples", fmt.Errorf("must be at least 1, got %d", *n))
	}
	check("retention.max_age", positive(f.Retention.MaxAge))
	check("recent_window", positive(f.RecentWindow))
	for i, h := range f.AllowedHosts {
		check(fmt.Sprintf("allowed_hosts[%d]", i), httpguard.CheckHost(h))
	}
	check("session_timeout", positive(f.SessionTimeout))
	if f.OTLPEndpoint != "" {
		check("otlp_endpoint", (*httpURLValue)(new(string)).Set(f.OTLPEndpoint))
	}
	if f.OTLPProtocol != "" {
		check("otlp_protocol", (*otlpProtocolValue)(new(string)).Set(f.OTLPProtocol))
	}
	if f.TraceURLTemplate != "" {
		check("trace_url_template", (*traceURLValue)(new(string)).Set(f.TraceURLTemplate))
	}
	if n := f.CaptureMaxBytes; n != nil && *n < 1 {
		check("capture_max_bytes", fmt.Errorf("must be at least 1, got %d", *n))
	}
	for i, k := range f.RedactKeys {
		if strings.TrimSpace(k) == "" {
			check(fmt.Sprintf("redact_keys[%d]", i), errors.New("must not be empty"))
		}
	}
	if n := f.MaxSessions; n != nil && *n < 1 {
		check("max_sessions", fmt.Errorf("must be at least 1, got %d", *n))
	}
	check("trend_window", positive(f.TrendWindow))
	if f.CallRing != nil {
		check("call_ring", CheckCallRing(*f.CallRing))
	}
	errs = append(errs, f.Alerts.validate()...)
	return append(errs, f.SLO.validate()...)
}

func positive(d *Duration) error {
	if d != nil && *d <= 0 {
		return fmt.Errorf("must be positive, got %s", d)
	}
	return nil
}
