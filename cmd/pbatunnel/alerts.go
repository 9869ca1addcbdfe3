package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/app"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/config"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// defaultTestTimeout bounds "alerts test": long enough for a webhook's
// retries with their backoff, short enough not to look hung.
const defaultTestTimeout = 10 * time.Second

func printAlertsUsage(w io.Writer) {
	fmt.Fprint(w, `Usage:
  pbatunnel alerts check [--config FILE]
  pbatunnel alerts test [--config FILE] [--level LEVEL] [--timeout DURATION]
  pbatunnel alerts export --format prometheus-rules [--config FILE] [-o FILE] [--rate-window DURATION]

check   validates a config file, alert rules, SLOs and handlers included,
        without starting anything. Exit status 0 when it is valid, 1 when it
        is not.
test    sends one test alert through every configured handler (the log, each
        webhook, the Alertmanager) and says how each fared. Exit status 0
        when every one delivered it, 1 otherwise.
export  writes the rules in force and the slo section's objectives as a
        Prometheus rules file over /metrics, for a Prometheus that scrapes
        many pbatunnel hosts: one alerting rule per level, and multiwindow
        burn-rate alerts for each objective. Rules over series /metrics does
        not carry are left out with the reason. Example:
          pbatunnel alerts export --format prometheus-rules --config pbatunnel.yaml -o pbatunnel.rules.yml
          promtool check rules pbatunnel.rules.yml

The config file is --config, else PBATUNNEL_CONFIG. Status 2 means the
command itself was mistaken: an unknown flag, no config file for check, or,
for test and export, a config file that does not load. See docs/ALERTS.md.
`)
}

// runAlerts is reached for "alerts" without a known subcommand.
func runAlerts(_ context.Context, args []string, stdout, _ io.Writer) error {
	if len(args) == 0 {
		return &usageError{err: errors.New("want a subcommand: check, test or export (see 'pbatunnel help alerts')")}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		printAlertsUsage(stdout)
		return nil
	}
	return &usageError{err: fmt.Errorf("unknown subcommand %q: want check, test or export", args[0])}
}

// configPath returns the --config value, else PBATUNNEL_CONFIG, else "".
func configPath(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	return os.Getenv(config.EnvVar("config"))
}

func newAlertsCheckFlags(out io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("pbatunnel alerts check", flag.ContinueOnError)
	fs.SetOutput(out)
	path := fs.String("config", "", "YAML config `file` to check (default $PBATUNNEL_CONFIG)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: pbatunnel alerts check [--config FILE]

Validate a config file without starting anything. Print "FILE: ok (N rules,
M handlers)" and exit 0, or print every problem and exit 1.

Flags:
`)
		fs.PrintDefaults()
	}
	return fs, path
}

func runAlertsCheck(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs, flagPath := newAlertsCheckFlags(stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	path := configPath(*flagPath)
	if path == "" {
		return &usageError{err: fmt.Errorf("no config file: give --config FILE or set %s", config.EnvVar("config"))}
	}
	f, err := config.Load(path)
	if err == nil {
		// Apply catches nothing Load has not, but counting what it
		// registers is the surest way to say what serve would run.
		var e *alert.Engine
		e, _, err = buildAlerts(&f.Alerts, slog.New(slog.DiscardHandler))
		if err == nil {
			_, err = fmt.Fprintf(stdout, "%s: ok (%s, %s)\n", path,
				plural(len(e.Rules()), "rule"), plural(len(e.HandlerStats()), "handler"))
			return err
		}
	}
	fmt.Fprintln(stderr, err)
	n := 1
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		n = len(j.Unwrap())
	}
	fmt.Fprintf(stderr, "%s: invalid (%s)\n", path, plural(n, "problem"))
	return errReported
}

// buildAlerts makes an alert engine on a monitor that samples nothing,
// configured with a's rules and handlers, for the commands that inspect or
// exercise them.
func buildAlerts(a *config.Alerts, logger *slog.Logger) (*alert.Engine, []app.Runner, error) {
	o := a.EngineOptions()
	o.Logger = logger
	e := alert.New(monitor.New(monitor.Options{DisableSystem: true, Logger: logger}), o)
	runners, err := app.ApplyAlerts(a, e, logger)
	return e, runners, err
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// levelValue is a flag.Value accepting the levels a test alert may have.
type levelValue alert.Level

func (v *levelValue) String() string { return string(*v) }

func (v *levelValue) Set(s string) error {
	switch l := alert.Level(s); l {
	case alert.LevelInfo, alert.LevelWarning, alert.LevelCritical:
		*v = levelValue(l)
		return nil
	}
	return fmt.Errorf("want info, warning or critical, got %q", s)
}

type alertsTestFlags struct {
	config  string
	level   levelValue
	timeout time.Duration
}

func newAlertsTestFlags(out io.Writer) (*flag.FlagSet, *alertsTestFlags) {
	f := &alertsTestFlags{level: levelValue(alert.LevelWarning), timeout: defaultTestTimeout}
	fs := flag.NewFlagSet("pbatunnel alerts test", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&f.config, "config", "", "YAML config `file` naming the handlers (default $PBATUNNEL_CONFIG; none: the log only)")
	fs.Var(&f.level, "level", "`level` of the test alert: info, warning or critical")
	fs.DurationVar(&f.timeout, "timeout", f.timeout, "how long to wait for every handler, retries included")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: pbatunnel alerts test [--config FILE] [--level LEVEL] [--timeout DURATION]

Send one test alert (labelled synthetic="true") through every alert handler
the config file sets up, all at once, and print one line per handler. Exit 0
when every one delivered it, 1 otherwise. The log handler writes the alert
to standard error and cannot fail.

Flags:
`)
		fs.PrintDefaults()
	}
	return fs, f
}

func runAlertsTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, f := newAlertsTestFlags(stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if f.timeout <= 0 {
		return &usageError{err: fmt.Errorf("--timeout must be positive, got %v", f.timeout)}
	}
	var alerts config.Alerts
	if path := configPath(f.config); path != "" {
		file, err := config.Load(path)
		if err != nil {
			return &usageError{err: fmt.Errorf("loading config: %w", err)}
		}
		alerts = file.Alerts
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	e, _, err := buildAlerts(&alerts, logger)
	if err != nil {
		return fmt.Errorf("configuring alerts: %w", err)
	}
	handlers := e.HandlerStats()
	if len(handlers) == 0 {
		return errors.New("no alert handlers configured: alerts.log is false and there are no alerts.webhooks or alerts.alertmanager")
	}

	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	results := e.Test(ctx, alert.Level(f.level))
	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
			fmt.Fprintf(stdout, "FAIL %s (%s): %v\n", r.Handler, took(r.Took), r.Err)
			continue
		}
		fmt.Fprintf(stdout, "ok   %s (%s)\n", r.Handler, took(r.Took))
	}
	if len(results) == 1 && results[0].Handler == "log" {
		fmt.Fprintln(stdout, "only the log handler is configured: it writes alerts to standard error and cannot fail; "+
			"add alerts.webhooks or alerts.alertmanager to send them anywhere else")
	}
	if failed > 0 {
		return fmt.Errorf("%d of %s failed", failed, plural(len(results), "handler"))
	}
	return nil
}

// took formats a delivery time to the millisecond.
func took(d time.Duration) string {
	if d < time.Millisecond {
		return "<1ms"
	}
	return d.Round(time.Millisecond).String()
}
