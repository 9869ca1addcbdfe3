package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/httppost"
)

// A Webhook posts each notification to a URL as JSON in the shape of
// Alertmanager's webhook payload, version "4", so receivers written for
// Alertmanager (chat bridges, incident tools, scripts) work unchanged.
//
// Each notification is one message: one alert, or two for an escalation
// or de-escalation, where the instance at the old severity resolves and the
// one at the new severity fires (severity is a label; see [Labels]).
//
// The zero value of every field but URL is a good default. A Webhook is
// safe for concurrent use; do not change its fields while it is in use.
type Webhook struct {
	URL string // absolute http or https URL; see Validate

	// Timeout bounds each attempt (default DefaultTimeout).
	Timeout time.Duration
	// Retries is how many times a temporary failure (network error,
	// timeout, 5xx, 408, 429) is retried after the first attempt: 0 means
	// DefaultRetries, negative means none.
	Retries int
	// Backoff is the wait before the first retry (default DefaultBackoff);
	// it doubles for each further retry, up to MaxBackoff, with jitter. A
	// Retry-After on 429 or 503 is obeyed instead, up to MaxBackoff.
	Backoff time.Duration
	// Client sends the requests (default: the package's own client, which
	// does not follow redirects).
	Client *http.Client

	// Receiver is the payload's "receiver" (default "pbatunnel").
	Receiver string
	// ExternalURL is where the alerts can be seen, such as the dashboard:
	// the payload's "externalURL" and each alert's "generatorURL".
	ExternalURL string
	// Headers are added to every request, e.g. "Authorization".
	Headers map[string]string
}

var _ alert.NamedHandler = (*Webhook)(nil)

// Validate reports whether URL is an absolute http or https URL.
func (w *Webhook) Validate() error {
	if _, err := httppost.ParseURL(w.URL); err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	return nil
}

// Name returns "webhook " and the URL, with credentials and query values
// redacted, for handler statistics and logs.
func (w *Webhook) Name() string {
	return "webhook " + redactedOrInvalid(w.URL)
}

func redactedOrInvalid(raw string) string {
	u, err := httppost.ParseURL(raw)
	if err != nil {
		return "(invalid URL)" // never the raw text: it may hold a password
	}
	return httppost.RedactURL(u)
}

// HandleAlert posts a, retrying temporary failures, and returns when the
// receiver accepted it, failed for good, or ctx ended.
func (w *Webhook) HandleAlert(ctx context.Context, a alert.Alert) error {
	u, err := httppost.ParseURL(w.URL)
	if err != nil {
		return fmt.Errorf("posting webhook: %w", err)
	}
	body, err := json.Marshal(w.message(a, time.Now()))
	if err != nil {
		return fmt.Errorf("posting webhook: encoding: %w", err)
	}
	d := httppost.New(w.Client, u, w.Headers, w.Timeout, w.Retries, w.Backoff)
	if err := d.Post(ctx, body); err != nil {
		return fmt.Errorf("posting webhook: %w", err)
	}
	return nil
}

// webhookMessage is Alertmanager's webhook payload, version "4" (see its
// notify/webhook Message and template Data).
type webhookMessage struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []webhookAlert    `json:"alerts"`
}

type webhookAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"` // zero time while firing, as Alertmanager sends it
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

const (
	statusFiring   = "firing"
	statusResolved = "resolved"
)

func (w *Webhook) message(a alert.Alert, now time.Time) webhookMessage {
	ns := notices(a, now)
	receiver := w.Receiver
	if receiver == "" {
		receiver = Source
	}
	// The group is the rule and the series: stable across every transition
	// of the alert, severity changes included, so a receiver can tie a
	// resolution to its firing by groupKey.
	group := map[string]string{}
	for _, name := range []string{"alertname", "metric"} {
		if v, ok := ns[0].labels[name]; ok {
			group[name] = v
		}
	}
	m := webhookMessage{
		Version:           "4",
		GroupKey:          "{}:" + formatLabelSet(group),
		Status:            statusResolved,
		Receiver:          receiver,
		GroupLabels:       group,
		CommonLabels:      maps.Clone(ns[0].labels),
		CommonAnnotations: maps.Clone(ns[0].annotations),
		ExternalURL:       w.ExternalURL,
	}
	for _, n := range ns {
		status := statusResolved
		if !n.resolved() {
			status = statusFiring
			m.Status = statusFiring // the group fires while any alert in it does
		}
		m.Alerts = append(m.Alerts, webhookAlert{
			Status:       status,
			Labels:       n.labels,
			Annotations:  n.annotations,
			StartsAt:     n.startsAt,
			EndsAt:       n.endsAt,
			GeneratorURL: w.ExternalURL,
			Fingerprint:  n.fingerprint,
		})
		keepCommon(m.CommonLabels, n.labels)
		keepCommon(m.CommonAnnotations, n.annotations)
	}
	return m
}

// keepCommon deletes from common what kv does not share.
func keepCommon(common, kv map[string]string) {
	for k, v := range common {
		if w, ok := kv[k]; !ok || w != v {
			delete(common, k)
		}
	}
}

// formatLabelSet writes labels as Alertmanager does in group keys:
// {a="1", b="2"}.
func formatLabelSet(ls map[string]string) string {
	names := slices.Sorted(maps.Keys(ls))
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s=%q", n, ls[n])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
