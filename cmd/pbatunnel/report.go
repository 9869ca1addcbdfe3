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

	"github.com/mcp-pba-tunnel/pbatunnel/export"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/config"
)

// reportFlags are the settings of "pbatunnel report".
type reportFlags struct {
	addr, format, output, token string
	timeout                     time.Duration
}

func newReportFlags(out io.Writer) (*flag.FlagSet, *reportFlags) {
	r := &reportFlags{addr: config.DefaultAddr, format: "text", timeout: 10 * time.Second}
	fs := flag.NewFlagSet("pbatunnel report", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&r.addr, "addr", r.addr, "`host:port` of the running pbatunnel's dashboard")
	fs.StringVar(&r.format, "format", r.format, "report `format`: json or text")
	fs.StringVar(&r.output, "output", "", "write the report to this `file` (atomically) instead of stdout")
	fs.StringVar(&r.token, "auth-token", "", "bearer `token`, when the dashboard requires one (or PBATUNNEL_AUTH_TOKEN)")
	fs.DurationVar(&r.timeout, "timeout", r.timeout, "give up after this `duration`")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: pbatunnel report [flags]

Print, or save, the performance report of a running pbatunnel (the one
"pbatunnel serve" started), read from its /api/metrics.

Flags (--addr and --auth-token also from PBATUNNEL_ADDR and
PBATUNNEL_AUTH_TOKEN):
`)
		fs.PrintDefaults()
	}
	return fs, r
}

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, r := newReportFlags(stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, name := range []string{"addr", "auth-token"} {
		if v, ok := os.LookupEnv(config.EnvVar(name)); ok && v != "" && !given[name] {
			_ = fs.Set(name, v)
		}
	}
	if r.format != "json" && r.format != "text" {
		return &usageError{err: fmt.Errorf("--format: want json or text, got %q", r.format)}
	}
	if err := config.CheckAddr(r.addr); err != nil {
		return &usageError{err: fmt.Errorf("--addr: %w", err)}
	}
	body, err := fetchReport(ctx, r)
	if err != nil {
		return err
	}
	if r.output == "" {
		_, err := stdout.Write(body)
		return err
	}
	return export.WriteFileAtomic(r.output, body, 0o644)
}

// fetchReport reads the report from the dashboard at r.addr.
func fetchReport(ctx context.Context, r *reportFlags) ([]byte, error) {
	host, port, _ := net.SplitHostPort(r.addr)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1" // a server listening everywhere answers here too
	}
	url := "http://" + net.JoinHostPort(host, port) + "/api/metrics?format=" + r.format
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("nothing answers at %s: is \"pbatunnel serve\" running there? (--addr)", r.addr)
		}
		return nil, fmt.Errorf("reading the report: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the report: %w", err)
	}
	switch {
	case res.StatusCode == http.StatusUnauthorized:
		return nil, fmt.Errorf("the dashboard at %s requires a token: --auth-token or PBATUNNEL_AUTH_TOKEN", r.addr)
	case res.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("the dashboard at %s answered %s: %s", r.addr, res.Status, bytesTrim(body, 300))
	}
	return body, nil
}

func bytesTrim(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
