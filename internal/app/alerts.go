package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/config"
	"github.com/mcp-pba-tunnel/pbatunnel/notify"
)

// A Runner is a loop something needs running alongside the monitor, such
// as the Alertmanager notifier's re-push of firing alerts or an exporter.
// Run returns when ctx ends.
type Runner interface {
	Run(ctx context.Context) error
}

// ApplyAlerts configures e, created with a.EngineOptions, as the alerts
// section says (config.Alerts.Plan): it removes the disabled built-in
// rules, sets the others' levels, adds the rules, and registers the
// handlers, log first, then the webhooks in order, then the Alertmanager,
// logging notifications to logger. It returns the loops the handlers need;
// run each with the context the monitor runs with.
//
// Nothing is changed unless the section is valid. Meant to be called once,
// before the monitor starts.
func ApplyAlerts(a *config.Alerts, e *alert.Engine, logger *slog.Logger) ([]Runner, error) {
	p, err := a.Plan()
	if err != nil {
		return nil, err
	}
	for _, name := range p.Remove {
		e.RemoveRule(name)
	}
	if err := e.SetThresholds(p.Levels); err != nil {
		return nil, fmt.Errorf("alerts.thresholds: %w", err)
	}
	for i, r := range p.Rules {
		if err := e.AddRule(r); err != nil {
			return nil, fmt.Errorf("alerts.rules[%d]: %w", i, err)
		}
	}
	if p.Log {
		e.OnAlert(notify.LogHandler{Logger: logger})
	}
	for i := range p.Webhooks {
		e.OnAlert(webhookHandler(&p.Webhooks[i], p.ExternalURL))
	}
	var runners []Runner
	if am := p.Alertmanager; am != nil {
		h := alertmanagerHandler(am, p.ExternalURL, logger)
		e.OnAlert(h)
		runners = append(runners, h)
	}
	return runners, nil
}

func webhookHandler(w *config.Webhook, externalURL string) *notify.Webhook {
	h := &notify.Webhook{
		URL:         w.URL,
		Retries:     retries(w.Retries),
		Receiver:    w.Receiver,
		ExternalURL: externalURL,
		Headers:     w.Headers,
	}
	if w.Timeout != nil {
		h.Timeout = time.Duration(*w.Timeout)
	}
	if w.Backoff != nil {
		h.Backoff = time.Duration(*w.Backoff)
	}
	return h
}

func alertmanagerHandler(am *config.Alertmanager, externalURL string, logger *slog.Logger) *notify.Alertmanager {
	h := &notify.Alertmanager{
		URL:         am.URL,
		Retries:     retries(am.Retries),
		ExternalURL: externalURL,
		Logger:      logger,
	}
	if am.Timeout != nil {
		h.Timeout = time.Duration(*am.Timeout)
	}
	if am.Backoff != nil {
		h.Backoff = time.Duration(*am.Backoff)
	}
	if am.ResendInterval != nil {
		h.ResendInterval = time.Duration(*am.ResendInterval)
	}
	return h
}

// retries maps the file's count, where 0 means none, to the alert
// package's, where 0 means the default and a negative count none.
func retries(n *int) int {
	switch {
	case n == nil:
		return 0
	case *n == 0:
		return -1
	}
	return *n
}
