package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/alert/promrules"
	"github.com/mcp-pba-tunnel/pbatunnel/export"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/config"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
)

// formatPromRules is the one format "alerts export" writes.
const formatPromRules = "prometheus-rules"

// proxyRules are the rules "pbatunnel proxy" adds on its upstream server,
// in code rather than from the config file. They are in force on every
// proxy and match nothing on a serve, whose /metrics has none of their
// gauges, so one rules file serves both.
var proxyRules = []func() alert.Rule{tunnel.UpstreamDownRule, tunnel.UpstreamNoToolsRule, tunnel.CatalogChangedRule}

// withProxyRules returns rules and the proxy's, but those a rule of the
// same name replaces, as the config file's rules replace them in proxy.
func withProxyRules(rules []alert.Rule) []alert.Rule {
	for _, mk := range proxyRules {
		r := mk()
		if !slices.ContainsFunc(rules, func(c alert.Rule) bool { return c.Name == r.Name }) {
			rules = append(rules, r)
		}
	}
	return rules
}

type alertsExportFlags struct {
	format     string
	config     string
	output     string
	rateWindow time.Duration
}

func newAlertsExportFlags(out io.Writer) (*flag.FlagSet, *alertsExportFlags) {
	f := &alertsExportFlags{rateWindow: promrules.DefaultRateWindow}
	fs := flag.NewFlagSet("pbatunnel alerts export", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&f.format, "format", "", "output `format`: "+formatPromRules+" (required)")
	fs.StringVar(&f.config, "config", "", "YAML config `file` whose alerts and slo sections to export (default $PBATUNNEL_CONFIG; none: the built-in rules and the default SLOs)")
	fs.StringVar(&f.output, "o", "", "write to `file` (atomically) instead of standard output")
	fs.DurationVar(&f.rateWindow, "rate-window", f.rateWindow, "window of the rates behind pbatunnel's last-minute figures; Prometheus must scrape at least twice in it")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: pbatunnel alerts export --format prometheus-rules [--config FILE] [-o FILE] [--rate-window DURATION]

Write the alert rules in force (the built-in ones with the config file's
thresholds, the rules "pbatunnel proxy" adds on its upstream server, and
the file's own rules) and the config file's service level
objectives (slo) as a Prometheus rules file over the series pbatunnel serves
on /metrics: one alerting rule per level, recording rules for the figures
they read, and multiwindow burn-rate alerts for each objective. A rule over
a series /metrics does not carry is left out, and the file says why; so
does standard error. See docs/ALERTS.md.

Flags:
`)
		fs.PrintDefaults()
	}
	return fs, f
}

func runAlertsExport(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs, f := newAlertsExportFlags(stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch f.format {
	case formatPromRules:
	case "":
		return &usageError{err: errors.New("--format is required: " + formatPromRules)}
	default:
		return &usageError{err: fmt.Errorf("unknown --format %q: want %s", f.format, formatPromRules)}
	}
	if f.rateWindow < time.Second {
		return &usageError{err: fmt.Errorf("--rate-window must be at least 1s, got %v", f.rateWindow)}
	}
	var file config.File
	if path := configPath(f.config); path != "" {
		loaded, err := config.Load(path)
		if err != nil {
			return &usageError{err: fmt.Errorf("loading config: %w", err)}
		}
		file = *loaded
	}
	e, _, err := buildAlerts(&file.Alerts, slog.New(slog.DiscardHandler))
	if err != nil {
		return &usageError{err: fmt.Errorf("configuring alerts: %w", err)}
	}
	opts := promrules.Options{Rules: withProxyRules(e.Rules()), SLO: file.SLO.Objectives(), RateWindow: f.rateWindow, TargetDown: true}
	if file.RecentWindow != nil {
		opts.RecentWindow = time.Duration(*file.RecentWindow)
	}
	rules, err := promrules.Build(opts)
	if err != nil {
		return &usageError{err: err}
	}
	var buf bytes.Buffer
	if _, err := rules.WriteTo(&buf); err != nil {
		return err
	}
	if f.output == "" {
		if _, err := stdout.Write(buf.Bytes()); err != nil {
			return err
		}
	} else if err := export.WriteFileAtomic(f.output, buf.Bytes(), 0o644); err != nil {
		return err
	}
	alerting, recording := rules.Counts()
	dest := f.output
	if dest == "" {
		dest = "standard output"
	}
	fmt.Fprintf(stderr, "wrote %s: %s, %s\n", dest, plural(alerting, "alerting rule"), plural(recording, "recording rule"))
	for _, l := range rules.LeftOut {
		fmt.Fprintf(stderr, "left out rule %s (%s): %s\n", l.Rule, l.Metric, l.Reason)
	}
	return nil
}
