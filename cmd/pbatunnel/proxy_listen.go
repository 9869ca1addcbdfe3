package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/dashboard"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/config"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/httpguard"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
)

// forwardSignals forwards SIGINT and SIGTERM to the MCP server until the
// returned function is called.
func forwardSignals(p *tunnel.Stdio, logger *slog.Logger) (stop func()) {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	// Handled rather than fatal: a client that closed our stdout makes
	// writes fail, and the relay goes on until its end of input, instead of
	// dying by SIGPIPE and leaving the server behind.
	pipes := make(chan os.Signal, 1)
	signal.Notify(pipes, syscall.SIGPIPE)
	var forwarding sync.WaitGroup
	forwarding.Go(func() {
		for sig := range sigs {
			logger.Info("forwarding signal to the upstream MCP server", "signal", sig.String())
			if err := p.Signal(sig); err != nil {
				logger.Warn("forwarding signal failed", "error", err)
			}
		}
	})
	return func() {
		signal.Stop(sigs) // nothing is sent once this returns
		signal.Stop(pipes)
		close(sigs)
		forwarding.Wait()
	}
}

// serveHTTPProxy serves the HTTP tunnel on listen until ctx ends or a
// SIGINT or SIGTERM arrives. Its listener is guarded as the dashboard's is:
// the Host and Origin rules, the body timeout, and the bearer token, which
// is required beyond loopback and not passed on to the upstream.
func serveHTTPProxy(ctx context.Context, h http.Handler, listen, upstream string, s *config.Settings, logger *slog.Logger) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	guard, err := httpguard.New(httpguard.Options{AllowedHosts: s.AllowedHosts})
	if err != nil {
		return &usageError{err: fmt.Errorf("--allowed-host: %w", err)}
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("proxy: listening on %s: %w (choose another address with --listen)", listen, err)
	}
	if !dashboard.IsLoopback(listen) {
		logger.Warn("the MCP proxy listens beyond loopback: whoever has the token reaches the upstream server as you", "listen", ln.Addr().String())
	}
	srv := &http.Server{
		Handler:           httpguard.BodyTimeout(guard.Handler(httpguard.Token{Secret: s.AuthToken, Consume: true}.Handler(h)), 0),
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    64 << 10,
		// Event streams end with the proxy instead of holding shutdown up.
		BaseContext: func(net.Listener) context.Context { return ctx },
		ErrorLog:    slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("proxying MCP over HTTP", "listen", "http://"+ln.Addr().String(), "upstream", upstream)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("proxy: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		_ = srv.Close()
	}
	<-errc
	logger.Info("proxy stopped", "reason", context.Cause(ctx).Error())
	return nil
}
