package main

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/httpheader"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
)

// upstreamHeaderFlag collects proxy's repeatable --header 'Name: value',
// the headers set on every request to --upstream. One value may hold
// several, a line each, as PBATUNNEL_HEADER does. ${NAME} in a value is
// the environment variable NAME, read once, here: a secret kept in the
// environment then never shows in the process list.
type upstreamHeaderFlag struct {
	h         http.Header
	lookupEnv func(string) (string, bool)
}

// String gives the names only: values may be secrets.
func (f *upstreamHeaderFlag) String() string {
	if f == nil {
		return ""
	}
	return strings.Join(f.names(), ", ")
}

func (f *upstreamHeaderFlag) Set(s string) error {
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.TrimSpace(line) // a CR of a CRLF line end too
		if line == "" {
			continue
		}
		name, raw, err := httpheader.ParseField(line)
		if err != nil {
			return err
		}
		// The name first, so that a header the tunnel writes itself is
		// refused whatever its value would have been.
		if err := tunnel.CheckHeader(http.Header{name: nil}); err != nil {
			return err
		}
		value, err := expandEnv(raw, f.lookupEnv)
		if err != nil {
			return fmt.Errorf("the value of header %s: %w", name, err)
		}
		if err := tunnel.CheckHeader(http.Header{name: {value}}); err != nil {
			return err
		}
		if f.h == nil {
			f.h = http.Header{}
		}
		f.h.Add(name, value)
	}
	return nil
}

// names are the names of the headers, sorted, to be logged instead of
// them.
func (f *upstreamHeaderFlag) names() []string {
	var names []string
	for k := range f.h {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// expandEnv replaces every ${NAME} in s with the value of the environment
// variable NAME. A variable that is not set, or empty, is an error: a
// header with the credentials left out would fail at the upstream, later
// and less clearly. Only the braced form is read, so that a value with a
// bare $ (common in tokens) stays as it is.
func expandEnv(s string, lookupEnv func(string) (string, bool)) (string, error) {
	var b strings.Builder
	for {
		before, after, ok := strings.Cut(s, "${")
		b.WriteString(before)
		if !ok {
			return b.String(), nil
		}
		name, rest, ok := strings.Cut(after, "}")
		if !ok {
			return "", errors.New("${ without a closing }")
		}
		if !isEnvName(name) {
			return "", fmt.Errorf("${%s}: want the name of an environment variable", name)
		}
		v, ok := lookupEnv(name)
		if !ok || v == "" {
			return "", fmt.Errorf("environment variable %s is not set", name)
		}
		b.WriteString(v)
		s = rest
	}
}

// isEnvName reports whether s is a portable environment variable name.
func isEnvName(s string) bool {
	if s == "" || '0' <= s[0] && s[0] <= '9' {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
