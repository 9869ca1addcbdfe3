// Package dashboard serves the monitor over HTTP: the live web page, the
// JSON API, a Server-Sent Events stream and the Prometheus endpoint.
//
// What "now" means is one rule for every route, with one exception that
// says so:
//
//   - Sampled, the rule: /api/metrics (JSON and text), /api/tools, the
//     stream's sample events, /api/health and /api/history are of the
//     latest sample. The report's forms are cut from one report built once
//     per sample (reportCache), so for one sample they agree to the call,
//     and a call recorded since shows in all of them at the next sample
//     together. The report's monitoring_info.live is false. While the
//     report of a sample that just landed is being built, a request gets
//     the previous one rather than wait; the stream waits, so that it
//     sends every sample as itself.
//   - Live, the exception: /metrics (and /api/metrics?format=prometheus),
//     because Prometheus takes a counter to count up to the scrape. It
//     reads Monitor.Live and the hot histograms (liveCollector): counts,
//     latencies, custom metrics and application gauges as of the scrape;
//     host, container and process figures and the sampler's cost, which
//     only a sample measures, of the latest sample. MCP's performance_report is live on the same terms,
//     so that an agent sees the call it just made.
//
// Alert state changes only when a sample is judged, so /api/alerts and the
// stream's alert events are of the latest sample by construction; the
// notifiers' delivery counts are read as they stand. The probes /livez and
// /readyz judge the moment of the request: the latest sample's age, and
// checks run for it. No read blocks the recording hot path; a live read
// and a sample take turns.
package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/httpguard"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// ErrAuthRequired is returned by Start for a non-loopback address without
// an auth token.
var ErrAuthRequired = errors.New("an auth token is required to listen beyond loopback")

// Handler returns the dashboard's routes for m. The broadcaster behind
// /api/stream runs until ctx ends.
func Handler(ctx context.Context, m *monitor.Monitor, opts Options) (http.Handler, error) {
	opts = opts.withDefaults()
	guard, err := httpguard.New(httpguard.Options{AllowedHosts: opts.AllowedHosts})
	if err != nil {
		return nil, fmt.Errorf("allowed hosts: %w", err)
	}
	prom, err := prometheusHandler(ctx, m, opts.Alerts)
	if err != nil {
		return nil, fmt.Errorf("registering prometheus collectors: %w", err)
	}
	cache := &reportCache{m: m}
	a := &api{m: m, opts: opts, prom: prom, report: cache}
	b := &broadcaster{report: cache}
	go b.run(ctx, m, opts.Alerts)

	data := http.NewServeMux()
	get := func(pattern string, h http.HandlerFunc) { data.Handle(pattern, methods(h, http.MethodGet)) }
	get("/api/metrics", a.metrics)
	get("/api/tools", a.tools)
	get("/api/calls", a.calls)
	get("/api/calls/{id}", a.call)
	get("/api/sessions", a.sessions)
	get("/api/catalog", a.catalog)
	data.Handle("/api/catalog/accept", methods(a.acceptCatalog, http.MethodPost))
	get("/api/alerts", a.alerts)
	get("/api/history", a.history)
	get("/api/config", a.config)
	get("/api/stream", b.serve)
	get("/metrics", prom.ServeHTTP)
	for pattern, h := range opts.Mount {
		data.Handle(pattern, h)
	}
	data.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not found: "+r.URL.Path)
	})
	data.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no API route "+quote(r.URL.Path)+"; see /api/metrics, /api/health, /api/tools, /api/alerts, /api/history, /api/config, /api/stream")
	})
	protected := httpguard.Token{Secret: opts.AuthToken}.Handler(data)

	root := http.NewServeMux()
	// Health is open so that probes need no secret; it reveals only
	// whether alerts fire and four headline figures.
	root.Handle("/api/health", methods(a.health, http.MethodGet))
	// Liveness and readiness likewise: up or down, and why.
	probes := newProbes(m, opts)
	root.Handle("/livez", methods(probes.livez, http.MethodGet))
	root.Handle("/readyz", methods(probes.readyz, http.MethodGet))
	// The page's files hold no data; the page asks for the token and sends
	// it with every request it makes.
	static := staticHandler()
	root.Handle("/{$}", methods(static.ServeHTTP, http.MethodGet))
	root.Handle("/static/", methods(static.ServeHTTP, http.MethodGet))
	root.Handle("/", protected)
	// The guard comes first: a request a web page forged is refused before
	// any route, open or not, runs.
	// The body deadline is outermost, so that it holds for requests the
	// guard refuses too: net/http reads their unread body after the
	// answer.
	return httpguard.BodyTimeout(securityHeaders(guard.Handler(root)), opts.BodyTimeout), nil
}

// A Server is a running dashboard.
type Server struct {
	addr string
	done chan struct{}
	err  error
}

// Addr is the address the server listens on (with the real port when
// Options.Addr asked for port 0).
func (s *Server) Addr() string { return s.addr }

// Wait blocks until the server has shut down and returns why it stopped
// serving, nil after a clean shutdown.
func (s *Server) Wait() error {
	<-s.done
	return s.err
}

// Start listens on opts.Addr and serves the dashboard for m until ctx ends
// (the guide's start_dashboard). Listening errors, such as a port already in
// use, are returned at once.
func Start(ctx context.Context, m *monitor.Monitor, opts Options) (*Server, error) {
	opts = opts.withDefaults()
	if !IsLoopback(opts.Addr) && opts.AuthToken == "" {
		return nil, fmt.Errorf("dashboard on %s: %w (--auth-token or PBATUNNEL_AUTH_TOKEN)", opts.Addr, ErrAuthRequired)
	}
	h, err := Handler(ctx, m, opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, listenError(opts.Addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		// Requests share the server's context, so that streams end when
		// it does instead of holding shutdown up.
		BaseContext: func(net.Listener) context.Context { return ctx },
		ErrorLog:    nil,
	}
	s := &Server{addr: ln.Addr().String(), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		errc := make(chan error, 1)
		go func() { errc <- srv.Serve(ln) }()
		select {
		case err := <-errc:
			s.err = err
			return
		case <-ctx.Done():
		}
		shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutCtx); err != nil {
			_ = srv.Close()
		}
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			s.err = err
		}
	}()
	return s, nil
}

// listenError names the port and the flag that changes it.
func listenError(addr string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		_, port, _ := net.SplitHostPort(addr)
		return fmt.Errorf("dashboard: port %s is already in use (%s); choose another with --addr or PBATUNNEL_ADDR", port, addr)
	}
	if strings.Contains(err.Error(), "permission denied") {
		return fmt.Errorf("dashboard: not allowed to listen on %s; choose a port above 1023 with --addr: %w", addr, err)
	}
	return fmt.Errorf("dashboard: listening on %s: %w", addr, err)
}
