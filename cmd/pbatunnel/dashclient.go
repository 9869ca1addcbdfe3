package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/config"
)

// fromEnv sets the named flags that the command line left unset from
// their PBATUNNEL_ variables (an empty one counts as unset).
func fromEnv(fs *flag.FlagSet, names ...string) {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, name := range names {
		if v, ok := os.LookupEnv(config.EnvVar(name)); ok && v != "" && !given[name] {
			_ = fs.Set(name, v)
		}
	}
}

// A dashboardClient calls the API of a running pbatunnel's dashboard, for
// the commands that talk to one (report, pin accept).
type dashboardClient struct {
	addr, token string
	timeout     time.Duration
}

// call sends a request to path and returns the answer's status and body
// (at most 64 MiB), with errors a person can act on: nothing listening,
// a token wanted.
func (c dashboardClient) call(ctx context.Context, method, path, contentType string, body io.Reader) (int, []byte, error) {
	host, port, _ := net.SplitHostPort(c.addr)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1" // a server listening everywhere answers here too
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+net.JoinHostPort(host, port)+path, body)
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return 0, nil, fmt.Errorf("nothing answers at %s: is \"pbatunnel serve\" or \"pbatunnel proxy\" running there? (--addr)", c.addr)
		}
		return 0, nil, fmt.Errorf("calling the dashboard at %s: %w", c.addr, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("reading the dashboard's answer: %w", err)
	}
	if res.StatusCode == http.StatusUnauthorized {
		return 0, nil, fmt.Errorf("the dashboard at %s requires a token: --auth-token or PBATUNNEL_AUTH_TOKEN", c.addr)
	}
	return res.StatusCode, b, nil
}
