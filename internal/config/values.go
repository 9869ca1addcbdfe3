package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/httpguard"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/httppost"
	"github.com/mcp-pba-tunnel/pbatunnel/telemetry"
)

// CheckAddr reports whether addr is a host:port with a numeric port. An
// empty host means every interface.
func CheckAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want host:port, such as 127.0.0.1:8080: %w", err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("port %q of %q is not a number from 0 to 65535", port, addr)
	}
	return nil
}

// CheckInterval reports whether d is an acceptable sampling interval.
func CheckInterval(d time.Duration) error {
	if d < MinInterval {
		return fmt.Errorf("must be at least %s, got %s", MinInterval, d)
	}
	return nil
}

// CheckCallRing reports whether n is an acceptable size of the ring of
// recent calls: at least 1, at most MaxCallRing.
func CheckCallRing(n int) error {
	switch {
	case n < 1:
		return fmt.Errorf("must be at least 1 call, got %d", n)
	case n > MaxCallRing:
		return fmt.Errorf("must be at most %d calls, got %d: each call kept takes about 250 bytes, allocated at start", MaxCallRing, n)
	}
	return nil
}

// The flag.Value types below validate in Set, so a bad value is rejected
// with the name of the flag or environment variable it came from rather than
// later, when its source is no longer known.

type addrValue string

func (v *addrValue) String() string { return string(*v) }

func (v *addrValue) Set(s string) error {
	if err := CheckAddr(s); err != nil {
		return err
	}
	*v = addrValue(s)
	return nil
}

type intervalValue time.Duration

func (v *intervalValue) String() string { return time.Duration(*v).String() }

func (v *intervalValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q (want a duration such as 30s or 5m)", s)
	}
	if err := CheckInterval(d); err != nil {
		return err
	}
	*v = intervalValue(d)
	return nil
}

type logFormatValue string

func (v *logFormatValue) String() string { return string(*v) }

func (v *logFormatValue) Set(s string) error {
	switch s {
	case LogText, LogJSON:
		*v = logFormatValue(s)
		return nil
	}
	return fmt.Errorf("want %q or %q, got %q", LogText, LogJSON, s)
}

type positiveDuration time.Duration

func (v *positiveDuration) String() string { return time.Duration(*v).String() }

func (v *positiveDuration) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return fmt.Errorf("want a positive duration such as 30s, got %q", s)
	}
	*v = positiveDuration(d)
	return nil
}

type httpURLValue string

func (v *httpURLValue) String() string { return string(*v) }

func (v *httpURLValue) Set(s string) error {
	if _, err := httppost.ParseURL(s); err != nil {
		return err
	}
	*v = httpURLValue(s)
	return nil
}

// rootsValue collects repeated --allow-root flags. From the environment
// (PBATUNNEL_ALLOW_ROOT) the value is a list separated by the OS's path
// list separator, as PATH is.
type rootsValue []string

func (v *rootsValue) String() string { return strings.Join(*v, string(filepath.ListSeparator)) }

func (v *rootsValue) Set(s string) error {
	for _, r := range filepath.SplitList(s) {
		if r == "" {
			continue
		}
		abs, err := filepath.Abs(r)
		if err != nil {
			return fmt.Errorf("root %q: %w", r, err)
		}
		*v = append(*v, abs)
	}
	return nil
}

// hostsValue collects repeated --allowed-host flags; from the environment
// one value holds several, separated by commas.
type hostsValue []string

func (v *hostsValue) String() string { return strings.Join(*v, ",") }

func (v *hostsValue) Set(s string) error {
	for _, h := range strings.Split(s, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if err := httpguard.CheckHost(h); err != nil {
			return err
		}
		*v = append(*v, h)
	}
	return nil
}

type positiveInt int

func (v *positiveInt) String() string { return strconv.Itoa(int(*v)) }

func (v *positiveInt) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return fmt.Errorf("want a whole number of at least 1, got %q", s)
	}
	*v = positiveInt(n)
	return nil
}

// callRingValue is a --call-ring size, checked by CheckCallRing.
type callRingValue int

func (v *callRingValue) String() string { return strconv.Itoa(int(*v)) }

func (v *callRingValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("want a whole number of calls, got %q", s)
	}
	if err := CheckCallRing(n); err != nil {
		return err
	}
	*v = callRingValue(n)
	return nil
}

// tokenValue is a bearer token: visible ASCII (RFC 6750's b64token
// characters and a few more), so that it survives an Authorization header
// and a blank value cannot pass for a secret.
type tokenValue string

func (v *tokenValue) String() string { return string(*v) }

func (v *tokenValue) Set(s string) error {
	if s == "" {
		*v = ""
		return nil
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f {
			return fmt.Errorf("a token must be visible ASCII characters without spaces")
		}
	}
	*v = tokenValue(s)
	return nil
}

// keysValue is a repeatable list of key names; a comma separates several
// in one value, as the environment gives them.
type keysValue []string

func (v *keysValue) String() string { return strings.Join(*v, ",") }

func (v *keysValue) Set(s string) error {
	for _, k := range strings.Split(s, ",") {
		if k = strings.TrimSpace(k); k != "" {
			*v = append(*v, k)
		}
	}
	if len(*v) == 0 {
		return errors.New("want a key name")
	}
	return nil
}

// otlpProtocolValue is an OTLP protocol telemetry knows.
type otlpProtocolValue string

func (v *otlpProtocolValue) String() string { return string(*v) }

func (v *otlpProtocolValue) Set(s string) error {
	switch s {
	case telemetry.ProtocolHTTP, telemetry.ProtocolGRPC:
		*v = otlpProtocolValue(s)
		return nil
	}
	return fmt.Errorf("unknown OTLP protocol %q: want %s or %s", s, telemetry.ProtocolHTTP, telemetry.ProtocolGRPC)
}

// traceURLValue is a link template: an http(s) URL holding {trace_id}.
type traceURLValue string

func (v *traceURLValue) String() string { return string(*v) }

func (v *traceURLValue) Set(s string) error {
	if !strings.Contains(s, "{trace_id}") {
		return fmt.Errorf("%q has no {trace_id} to replace", s)
	}
	if _, err := httppost.ParseURL(strings.ReplaceAll(s, "{trace_id}", "0")); err != nil {
		return err
	}
	*v = traceURLValue(s)
	return nil
}

// storeValue is a postgres:// or postgresql:// URL. Set takes any text
// and keeps what is wrong with it for Resolve to report (see
// checkedValue): the flag package's own message would quote the URL,
// password and all.
type storeValue struct {
	url *string
	err error
}

func (v *storeValue) String() string {
	if v.url == nil {
		return ""
	}
	return *v.url
}

func (v *storeValue) Set(s string) error {
	*v.url = s
	v.err = nil
	if err := CheckStore(s); err != nil {
		if shown := RedactStore(s); shown != "" {
			err = fmt.Errorf("invalid value %q: %w", shown, err)
		}
		v.err = err
	}
	return nil
}

func (v *storeValue) check() error { return v.err }

// A checkedValue is a flag's value whose Set accepts anything, because
// the text may hold a secret that the flag package's message for a
// refused value would show; check then says what is wrong, without the
// secret, and Resolve reports it as it reports a bad environment value.
type checkedValue interface {
	flag.Value
	check() error
}

// CheckStore checks a --store value: a PostgreSQL URL that parses.
func CheckStore(s string) error {
	u, err := url.Parse(s)
	if err == nil && u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return errors.New("want a postgres:// URL (the default, without --store, is the SQLite file memory.db in --data-dir)")
	}
	if err != nil { // url.Parse's message quotes the whole URL
		return errors.New("not a URL that parses (percent-encode any of : / @ # ? % in the user name or password): want postgres://user@host:5432/database")
	}
	if u.Host == "" && u.Query().Get("host") == "" {
		return errors.New("the URL names no host: postgres://user@host:5432/database")
	}
	return nil
}

// RedactStore is a --store URL without its password, for logs and
// /api/config.
func RedactStore(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	redacted := false
	for _, k := range []string{"password", "sslpassword"} { // pgx reads both
		if q.Has(k) {
			q.Set(k, "xxxxx")
			redacted = true
		}
	}
	if redacted {
		u.RawQuery = q.Encode()
	}
	return u.String()
}
