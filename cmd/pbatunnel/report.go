package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
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
	fromEnv(fs, "addr", "auth-token")
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
	status, body, err := dashboardClient{addr: r.addr, token: r.token, timeout: r.timeout}.call(ctx, http.MethodGet, "/api/metrics?format="+r.format, "", nil)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("the dashboard at %s answered %d %s: %s", r.addr, status, http.StatusText(status), bytesTrim(body, 300))
	}
	return body, nil
}

func bytesTrim(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
