// Package httppost posts JSON to HTTP receivers with a timeout per attempt,
// retries with jittered backoff and Retry-After, and errors that never
// carry the secrets a URL may hold. Alert notifiers and report exporters
// share it.
package httppost

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Delivery defaults.
const (
	DefaultTimeout = 5 * time.Second
	DefaultRetries = 3
	DefaultBackoff = 500 * time.Millisecond
	// MaxBackoff caps the doubling backoff and a receiver's Retry-After, so
	// a receiver cannot park a notifier for an hour.
	MaxBackoff = 30 * time.Second
)

// ErrorBodyLimit is how much of a failed response's body goes into the
// error: enough for a receiver's explanation, not a whole HTML page.
const ErrorBodyLimit = 512

// drainLimit bounds how much of a response is read so the connection can be
// reused; a receiver that sends more costs us a new connection, nothing else.
const drainLimit = 64 << 10

// A StatusError is a receiver's answer other than 2xx.
type StatusError struct {
	Code int    // the HTTP status code
	Body string // the first 512 bytes of the response body
}

func (e *StatusError) Error() string {
	s := "status " + strconv.Itoa(e.Code)
	if t := http.StatusText(e.Code); t != "" {
		s += " " + t
	}
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// Temporary reports whether sending again may succeed: 5xx, 408 Request
// Timeout and 429 Too Many Requests. Any other 4xx is the request's fault
// and would fail the same way again.
func (e *StatusError) Temporary() bool {
	return e.Code >= 500 || e.Code == http.StatusRequestTimeout || e.Code == http.StatusTooManyRequests
}

// defaultClient is the package's own client rather than
// http.DefaultClient, which any library may reconfigure. It does not follow
// redirects: a 301 or 302 would turn the POST into a GET and lose the
// body, so a redirect is reported instead.
var defaultClient = &http.Client{
	Transport: http.DefaultTransport.(*http.Transport).Clone(),
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// A Poster sends to one receiver: where, with which client and headers,
// and how patiently. Build it with New.
type Poster struct {
	client  *http.Client
	url     *url.URL // parsed and checked
	headers map[string]string
	timeout time.Duration
	retries int
	backoff time.Duration
}

// WithRetries returns a copy of p that retries n times (none when n ≤ 0).
func (d Poster) WithRetries(n int) Poster {
	d.retries = max(n, 0)
	return d
}

// CloseIdleConnections closes the idle connections of the default client,
// for tests that check for leaked goroutines.
func CloseIdleConnections() { defaultClient.CloseIdleConnections() }

// New returns a Poster; a nil client, a zero timeout, retries or backoff
// mean the defaults, and negative retries mean none.
func New(client *http.Client, u *url.URL, headers map[string]string, timeout time.Duration, retries int, backoff time.Duration) Poster {
	if client == nil {
		client = defaultClient
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	switch {
	case retries == 0:
		retries = DefaultRetries
	case retries < 0:
		retries = 0
	}
	if backoff <= 0 {
		backoff = DefaultBackoff
	}
	return Poster{client: client, url: u, headers: headers, timeout: timeout, retries: retries, backoff: backoff}
}

// Post sends body as JSON, retrying temporary failures (network errors,
// timeouts, 5xx, 408, 429) up to d.retries times with a jittered doubling
// backoff, or after the receiver's Retry-After on 429 and 503. It returns
// ctx's error as soon as ctx ends, even in the middle of a wait.
func (d Poster) Post(ctx context.Context, body []byte) error {
	var last error
	for attempt := 0; ; attempt++ {
		wait, err := d.attempt(ctx, body)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w (after %s; last: %v)", ctx.Err(), attempts(attempt+1), err)
		}
		last = err
		var se *StatusError
		if errors.As(err, &se) && !se.Temporary() {
			return err
		}
		if attempt >= d.retries {
			break
		}
		if wait < 0 {
			wait = backoffFor(d.backoff, attempt)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (after %s; last: %v)", ctx.Err(), attempts(attempt+1), last)
		case <-t.C:
		}
	}
	return fmt.Errorf("giving up after %s: %w", attempts(d.retries+1), last)
}

func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return strconv.Itoa(n) + " attempts"
}

// attempt makes one request within d.timeout. On failure it also returns
// how long the receiver asked us to wait (Retry-After), or -1.
func (d Poster) attempt(ctx context.Context, body []byte) (retryAfter time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url.String(), bytes.NewReader(body))
	if err != nil {
		return -1, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "pbatunnel")
	for k, v := range d.headers {
		req.Header.Set(k, v)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			// The error goes to logs and handler statistics: never with
			// the credentials or tokens the URL may carry.
			ue.URL = RedactURL(d.url)
		}
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			return -1, fmt.Errorf("no answer within %v: %w", d.timeout, err)
		}
		return -1, err
	}
	defer func() {
		io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
		resp.Body.Close()
	}()
	if resp.StatusCode/100 == 2 {
		return -1, nil
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, ErrorBodyLimit))
	retryAfter = -1
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return retryAfter, &StatusError{Code: resp.StatusCode, Body: string(bytes.TrimSpace(msg))}
}

// backoffFor returns the wait before retry number attempt+1: base doubled
// per attempt, capped at MaxBackoff, then jittered down by up to half so
// that notifiers failing together do not retry in lockstep.
func backoffFor(base time.Duration, attempt int) time.Duration {
	d := base
	for range attempt {
		if d >= MaxBackoff/2 {
			d = MaxBackoff
			break
		}
		d *= 2
	}
	d = min(d, MaxBackoff)
	half := d / 2
	return half + rand.N(d-half+1)
}

// parseRetryAfter reads a Retry-After header, in seconds or as an HTTP
// date, capped at MaxBackoff. It returns -1 when there is none or it
// cannot be read.
func parseRetryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return -1
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil {
		if secs < 0 {
			return -1
		}
		if secs > int64(MaxBackoff/time.Second) {
			return MaxBackoff
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = max(t.Sub(now), 0)
	} else {
		return -1
	}
	return min(d, MaxBackoff)
}

// RedactURL returns u as text without secrets: the user name and password
// become "xxxxx", and so does every query value (tokens often travel
// there).
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	if c.User != nil {
		if _, ok := c.User.Password(); ok {
			c.User = url.UserPassword("xxxxx", "xxxxx")
		} else {
			c.User = url.User("xxxxx")
		}
	}
	if c.RawQuery != "" {
		q := c.Query()
		for k := range q {
			q[k] = []string{"xxxxx"}
		}
		c.RawQuery = q.Encode()
	}
	return c.String()
}

// ParseURL parses an absolute http or https URL. Errors show the URL
// redacted.
func ParseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("no URL")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's error quotes the whole URL, secrets and all.
		return nil, errors.New("malformed URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("URL %s: scheme must be http or https", RedactURL(u))
	}
	if u.Host == "" {
		return nil, fmt.Errorf("URL %s: no host", RedactURL(u))
	}
	return u, nil
}
