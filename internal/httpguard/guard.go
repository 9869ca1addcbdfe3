// Package httpguard protects pbatunnel's HTTP listeners: from web pages
// that would drive a loopback service (Guard), and from clients that would
// hold a connection by never sending the body they announced
// (BodyTimeout).
//
// A page on evil.example can make the browser send requests to
// 127.0.0.1 by re-pointing its own name there (DNS rebinding) or by posting
// a simple cross-origin form; in both cases the request carries a Host or an
// Origin that is not ours. The guard answers such requests 403 before any
// route sees them, on every listener: dashboard, API, /metrics, /mcp and the
// proxy's own.
package httpguard

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Options configure a Guard. The zero value allows loopback names and
// addresses only.
type Options struct {
	// AllowedHosts are the host names or addresses, besides loopback ones,
	// that requests may name in Host and Origin: the names under which
	// users reach a listener beyond loopback (a reverse proxy's name, the
	// machine's address). An entry without a port allows every port; one
	// with a port ("example.com:8443") allows that port only (":80" and
	// ":443" also a Host without a port, as browsers send them). "*"
	// allows every host, which gives up the protection.
	AllowedHosts []string
	// Flag names the setting a refused user should change, for the error
	// message. Default "--allowed-host".
	Flag string
}

// A Guard checks the Host and Origin of requests. It is safe for
// concurrent use.
type Guard struct {
	any   bool
	hosts map[string]bool // lower-case host, or host:port, as allowed
	flag  string
}

// New returns a guard for opts. An entry that is not a host or host:port
// is an error.
func New(opts Options) (*Guard, error) {
	g := &Guard{hosts: map[string]bool{}, flag: opts.Flag}
	if g.flag == "" {
		g.flag = "--allowed-host"
	}
	for _, h := range opts.AllowedHosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "*" {
			g.any = true
			continue
		}
		if err := CheckHost(h); err != nil {
			return nil, err
		}
		if host, port, err := net.SplitHostPort(h); err == nil {
			g.hosts[net.JoinHostPort(host, port)] = true
		} else {
			g.hosts[strings.Trim(h, "[]")] = true
		}
	}
	return g, nil
}

// CheckHost reports whether s is a valid allowed-host entry: a host name, an
// IP address (IPv6 in brackets or bare), optionally with a port, or "*".
func CheckHost(s string) error {
	if s == "*" {
		return nil
	}
	if s == "" {
		return fmt.Errorf("empty host")
	}
	if strings.ContainsAny(s, "/?#@ \t") {
		return fmt.Errorf("host %q: want a host name or address, such as dash.example.com or 192.168.1.5, with an optional :port, not a URL", s)
	}
	host := s
	if h, port, err := net.SplitHostPort(s); err == nil {
		if port == "" || strings.Trim(port, "0123456789") != "" {
			return fmt.Errorf("host %q: port %q is not a number", s, port)
		}
		host = h
	}
	host = strings.Trim(host, "[]")
	if net.ParseIP(host) != nil {
		return nil
	}
	if strings.Contains(host, ":") || strings.Trim(host, ".") == "" {
		return fmt.Errorf("host %q: want a host name or address, such as dash.example.com or 192.168.1.5, with an optional :port", s)
	}
	return nil
}

// Allowed reports whether a request may name hostport (a Host header value
// or an origin's host) when it arrives.
func (g *Guard) Allowed(hostport string) bool {
	if g.any {
		return true
	}
	hostport = strings.ToLower(hostport)
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if isLoopbackHost(host) {
		return true
	}
	if g.hosts[host] {
		return true
	}
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		return g.hosts[net.JoinHostPort(h, p)]
	}
	// Browsers leave the scheme's default port out of Host and Origin.
	return g.hosts[net.JoinHostPort(host, "80")] || g.hosts[net.JoinHostPort(host, "443")]
}

// isLoopbackHost is true for the names and addresses that only ever reach
// this machine: "localhost" (and names under it, which resolvers keep on
// loopback by RFC 6761) and loopback IP addresses.
func isLoopbackHost(host string) bool {
	host = strings.TrimSuffix(host, ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Check returns the reason r may not be served, or "" when it may: its Host
// is not allowed, or it carries an Origin whose host is not allowed.
func (g *Guard) Check(r *http.Request) string {
	if !g.Allowed(r.Host) {
		return fmt.Sprintf("host %q is not allowed: this server answers loopback names and addresses only, unless started with %s %s", r.Host, g.flag, hostOnly(r.Host))
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return ""
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// "null" (sandboxed frames, file: pages) and other schemes are
		// pages we cannot name, so they cannot be allowed.
		return fmt.Sprintf("origin %q is not allowed: requests from web pages must come from an http(s) origin on an allowed host", origin)
	}
	if !g.Allowed(u.Host) {
		return fmt.Sprintf("origin %q is not allowed: web pages may call this server from loopback origins only, unless started with %s %s", origin, g.flag, hostOnly(u.Host))
	}
	return ""
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	if hostport == "" {
		return "<host>"
	}
	return hostport
}

// Handler wraps h so that requests the guard refuses get 403 with a JSON
// body {"error": "..."} naming the flag that would allow them.
func (g *Guard) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reason := g.Check(r); reason != "" {
			b, _ := json.Marshal(map[string]string{"error": reason})
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write(append(b, '\n'))
			return
		}
		h.ServeHTTP(w, r)
	})
}
