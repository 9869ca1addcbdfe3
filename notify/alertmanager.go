package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/httppost"
)

// DefaultResendInterval is how often Alertmanager.Run re-pushes the alerts
// that are still firing, as Prometheus does.
const DefaultResendInterval = time.Minute

// An Alertmanager pushes alerts to a Prometheus Alertmanager through its
// API (POST /api/v2/alerts), which then groups, silences, inhibits and
// routes them like any other.
//
// Alertmanager resolves an alert by itself once its endsAt has passed, so a
// firing alert is pushed with endsAt four resend intervals ahead and must
// be pushed again before then: HandleAlert remembers the firing alerts and
// Run re-pushes them every ResendInterval. Without Run, a firing alert
// resolves in Alertmanager after 4×ResendInterval. A resolved alert is
// pushed with its end time; if that push fails, Run retries it until
// Alertmanager would have resolved the alert anyway.
//
// A test alert (Synthetic) is pushed once and not re-pushed, so it ends
// by itself.
//
// The zero value of every field but URL is a good default. An Alertmanager
// is safe for concurrent use and must not be copied after first use; its
// pushes go out one at a time, in order, so Alertmanager never sees a stale
// re-push after a resolution.
type Alertmanager struct {
	URL string // base URL, e.g. http://127.0.0.1:9093

	// Timeout, Retries and Backoff are as for Webhook. Run's re-pushes are
	// not retried: the next interval is their retry.
	Timeout time.Duration
	Retries int
	Backoff time.Duration
	// Client sends the requests (default: the package's own client).
	Client *http.Client
	// ResendInterval is how often Run re-pushes the firing alerts
	// (default DefaultResendInterval).
	ResendInterval time.Duration
	// ExternalURL is where the alerts can be seen, such as the dashboard:
	// each alert's generatorURL, Alertmanager's link back to the source.
	ExternalURL string
	// Logger receives Run's failed re-pushes (default slog.Default()).
	Logger *slog.Logger

	init   sync.Once
	sem    chan struct{}       // held while changing state and pushing
	active map[string]*tracked // by label fingerprint
}

// tracked is an alert instance Alertmanager must keep hearing about: firing,
// or resolved but not yet delivered.
type tracked struct {
	key string // alert.Alert.Fingerprint: which rule and series
	n   notice
}

var _ alert.NamedHandler = (*Alertmanager)(nil)

// Validate reports whether URL is an absolute http or https URL.
func (am *Alertmanager) Validate() error {
	if _, err := httppost.ParseURL(am.URL); err != nil {
		return fmt.Errorf("alertmanager: %w", err)
	}
	return nil
}

// Name returns "alertmanager " and the URL, with credentials and query
// values redacted.
func (am *Alertmanager) Name() string {
	return "alertmanager " + redactedOrInvalid(am.URL)
}

func (am *Alertmanager) resendInterval() time.Duration {
	if am.ResendInterval > 0 {
		return am.ResendInterval
	}
	return DefaultResendInterval
}

func (am *Alertmanager) delivery() (httppost.Poster, error) {
	u, err := httppost.ParseURL(am.URL)
	if err != nil {
		return httppost.Poster{}, err
	}
	return httppost.New(am.Client, u.JoinPath("api/v2/alerts"), nil, am.Timeout, am.Retries, am.Backoff), nil
}

// lock waits for the turn to push, or for ctx to end.
func (am *Alertmanager) lock(ctx context.Context) error {
	am.init.Do(func() {
		am.sem = make(chan struct{}, 1)
		am.active = make(map[string]*tracked)
	})
	select {
	case am.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (am *Alertmanager) unlock() { <-am.sem }

// HandleAlert records a as firing or resolved and pushes it, retrying
// temporary failures, until Alertmanager accepted it, refused it for good,
// or ctx ended.
func (am *Alertmanager) HandleAlert(ctx context.Context, a alert.Alert) error {
	d, err := am.delivery()
	if err != nil {
		return fmt.Errorf("posting to alertmanager: %w", err)
	}
	if err := am.lock(ctx); err != nil {
		return fmt.Errorf("posting to alertmanager: %w", err)
	}
	defer am.unlock()

	now := time.Now()
	batch := notices(a, now)
	at := a.At
	if at.IsZero() {
		at = now
	}
	if !a.Synthetic {
		// An instance of this rule and series still firing at a severity
		// this notification does not mention has ended, even if its
		// resolution was never notified: a lost notification must not
		// leave it firing for ever.
		inBatch := make(map[string]bool, len(batch))
		for _, n := range batch {
			inBatch[n.fingerprint] = true
		}
		for fp, t := range am.active {
			if t.key == a.Fingerprint() && !inBatch[fp] && !t.n.resolved() {
				n := t.n
				n.endsAt = at.UTC()
				batch = append(batch, n)
			}
		}
		for _, n := range batch {
			am.active[n.fingerprint] = &tracked{key: a.Fingerprint(), n: n}
		}
	}

	if err := am.push(ctx, d, batch, now); err != nil {
		return fmt.Errorf("posting to alertmanager: %w", err)
	}
	am.forgetDelivered(batch)
	return nil
}

// Run re-pushes the firing alerts, and resolutions not yet delivered, every
// ResendInterval until ctx ends; then it returns nil. Failed re-pushes are
// logged to Logger.
func (am *Alertmanager) Run(ctx context.Context) error {
	t := time.NewTicker(am.resendInterval())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := am.resend(ctx); err != nil && ctx.Err() == nil {
				logger := am.Logger
				if logger == nil {
					logger = slog.Default()
				}
				logger.LogAttrs(ctx, slog.LevelWarn, "re-pushing alerts to alertmanager failed",
					slog.String("alertmanager", redactedOrInvalid(am.URL)), slog.Any("error", err))
			}
		}
	}
}

func (am *Alertmanager) resend(ctx context.Context) error {
	d, err := am.delivery()
	if err != nil {
		return err
	}
	d = d.WithRetries(0)
	if err := am.lock(ctx); err != nil {
		return err
	}
	defer am.unlock()

	now := time.Now()
	// A resolution older than the firing pushes' reach is moot:
	// Alertmanager has resolved that alert by itself.
	horizon := now.Add(-4 * am.resendInterval())
	batch := make([]notice, 0, len(am.active))
	for fp, t := range am.active {
		if t.n.resolved() && t.n.endsAt.Before(horizon) {
			delete(am.active, fp)
			continue
		}
		batch = append(batch, t.n)
	}
	if len(batch) == 0 {
		return nil
	}
	if err := am.push(ctx, d, batch, now); err != nil {
		return err
	}
	am.forgetDelivered(batch)
	return nil
}

// forgetDelivered drops the resolutions in batch, which Alertmanager now
// has. Called with the lock held.
func (am *Alertmanager) forgetDelivered(batch []notice) {
	for _, n := range batch {
		if t, ok := am.active[n.fingerprint]; ok && t.n.resolved() {
			delete(am.active, n.fingerprint)
		}
	}
}

// postableAlert is one element of the body of POST /api/v2/alerts
// (Alertmanager's OpenAPI PostableAlert).
type postableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// push sends batch; a firing alert gets endsAt 4 resend intervals from now,
// like Prometheus, so that it survives three missed re-pushes.
func (am *Alertmanager) push(ctx context.Context, d httppost.Poster, batch []notice, now time.Time) error {
	body := make([]postableAlert, len(batch))
	for i, n := range batch {
		endsAt := n.endsAt
		if !n.resolved() {
			endsAt = now.Add(4 * am.resendInterval()).UTC()
		}
		body[i] = postableAlert{
			Labels:       n.labels,
			Annotations:  n.annotations,
			StartsAt:     n.startsAt,
			EndsAt:       endsAt,
			GeneratorURL: am.generatorURL(),
		}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encoding: %w", err)
	}
	return d.Post(ctx, b)
}

// generatorURL returns ExternalURL if Alertmanager will take it: its API
// refuses the whole batch when generatorURL is not a URI.
func (am *Alertmanager) generatorURL() string {
	if _, err := url.ParseRequestURI(am.ExternalURL); err != nil {
		return ""
	}
	return am.ExternalURL
}
