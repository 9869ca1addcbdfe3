package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// A Check is one condition of readiness, run by /readyz: the store
// answers, the proxied server is up.
type Check struct {
	// Name names the check in /readyz's answer ("store", "upstream").
	Name string
	// Run returns nil when the condition holds, else why it does not. It
	// must return when ctx ends: /readyz waits Options.CheckTimeout for
	// it and no longer, and reports a check still running then as failed.
	Run func(ctx context.Context) error
}

// DefaultCheckTimeout bounds each readiness check. It is under the 1 s
// that Kubernetes gives a probe by default (timeoutSeconds), so that a
// hung check is reported by /readyz, with its name, rather than by the
// kubelet as a probe that did not answer.
const DefaultCheckTimeout = 800 * time.Millisecond

// The sampler is stuck when its latest sample is older than staleIntervals
// sampling intervals plus staleGrace. A sample is due every interval, and
// a time.Ticker drops a tick that falls while a sample overruns, so one
// missed sample is normal under load; three in a row is not. The grace
// covers a single slow sample at short intervals: its reads are bounded,
// but not below a second (the store's gauges wait up to 2 s each).
const (
	staleIntervals = 3
	staleGrace     = 10 * time.Second
)

// probes serves /livez and /readyz. Neither reveals more than up or down
// and why, so they are served without the token, like /api/health.
type probes struct {
	m       *monitor.Monitor
	checks  []Check
	timeout time.Duration
	stale   time.Duration // 0: from the sampling interval
	now     func() time.Time
	started time.Time // when the handler was built
}

func newProbes(m *monitor.Monitor, opts Options) *probes {
	p := &probes{m: m, checks: opts.Ready, timeout: opts.CheckTimeout, stale: opts.StaleAfter, now: opts.now}
	if p.timeout <= 0 {
		p.timeout = DefaultCheckTimeout
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.started = p.now()
	return p
}

// liveResponse is GET /livez.
type liveResponse struct {
	Status string `json:"status"` // "ok" or "failing"
	// Error says why the process is not live.
	Error string `json:"error,omitempty"`
	// LastSample is the time of the latest sample, as in /api/health.
	LastSample string `json:"last_sample,omitempty"`
}

// livez serves GET /livez: 200 while the process serves and its sampler
// samples, 503 when the latest sample is overdue. It reads one atomic
// pointer, so it answers even while a sample hangs, and it depends on
// nothing the host does: other programs' CPU, or a firing alert, never
// make the process look dead.
func (p *probes) livez(w http.ResponseWriter, r *http.Request) {
	if !checkParams(w, r) {
		return
	}
	res := liveResponse{Status: "ok"}
	if err := p.sampler(); err != nil {
		res.Status, res.Error = "failing", err.Error()
	}
	if s := p.m.Latest(); s != nil {
		res.LastSample = s.Time.UTC().Format(monitor.TimeFormat)
	}
	status := http.StatusOK
	if res.Error != "" {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, res)
}

// sampler returns why the sampler looks stuck, or nil.
func (p *probes) sampler() error {
	// Before the first sample the wait counts from the handler's start,
	// with the default interval (a monitor's interval is known for sure
	// only from its samples).
	last, interval := p.started, monitor.DefaultInterval
	s := p.m.Latest()
	if s != nil {
		last, interval = s.Time, s.Interval
	}
	limit := p.stale
	if limit <= 0 {
		limit = staleIntervals*interval + staleGrace
	}
	age := p.now().Sub(last)
	if age <= limit {
		return nil
	}
	age = age.Round(time.Second)
	if s == nil {
		return fmt.Errorf("no sample taken in the %v since the server started: the monitor's sampler is not running", age)
	}
	return fmt.Errorf("the latest sample is %v old, and one is due every %v: the monitor's sampler is stuck or stopped", age, interval)
}

// checkResult is one check in /readyz's answer.
type checkResult struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// readyResponse is GET /readyz.
type readyResponse struct {
	Status string `json:"status"` // "ready" or "not_ready"
	// Error names each failed check and why, in one line.
	Error  string        `json:"error,omitempty"`
	Checks []checkResult `json:"checks"`
}

// readyz serves GET /readyz: 200 when every check passes, 503 with the
// failed ones otherwise. The checks run at once, so the answer takes the
// slowest check's time, and never more than the timeout.
func (p *probes) readyz(w http.ResponseWriter, r *http.Request) {
	if !checkParams(w, r) {
		return
	}
	res := readyResponse{Status: "ready", Checks: runChecks(r.Context(), p.checks, p.timeout)}
	var failed []string
	for _, c := range res.Checks {
		if !c.OK {
			failed = append(failed, c.Name+": "+c.Error)
		}
	}
	status := http.StatusOK
	if len(failed) > 0 {
		status = http.StatusServiceUnavailable
		res.Status, res.Error = "not_ready", "not ready: "+strings.Join(failed, "; ")
	}
	writeJSON(w, status, res)
}

// runChecks runs the checks concurrently, each bounded by timeout, and
// returns their results in order. A check that has not returned by then is
// reported as failed and left to finish on its own: its goroutine ends
// when it returns, which a check honouring ctx does at once.
func runChecks(ctx context.Context, checks []Check, timeout time.Duration) []checkResult {
	out := make([]checkResult, len(checks))
	if len(checks) == 0 {
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type done struct {
		i   int
		err error
	}
	// Buffered for every check, so that a late one never blocks.
	results := make(chan done, len(checks))
	for i, c := range checks {
		out[i].Name = c.Name
		go func() { results <- done{i, runCheck(ctx, c, timeout)} }()
	}
	answered := make([]bool, len(checks))
	for range checks {
		select {
		case d := <-results:
			answered[d.i] = true
			out[d.i].OK = d.err == nil
			if d.err != nil {
				out[d.i].Error = d.err.Error()
			}
		case <-ctx.Done():
			for i := range out {
				if !answered[i] {
					out[i].Error = fmt.Sprintf("no answer within %v", timeout)
				}
			}
			return out
		}
	}
	return out
}

// runCheck runs one check, turning a panic into a failure: a broken check
// must fail the probe, not end the process.
func runCheck(ctx context.Context, c Check, timeout time.Duration) (err error) {
	if c.Run == nil {
		return fmt.Errorf("check %q has no function", c.Name)
	}
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("check panicked: %v", v)
		}
	}()
	if err := c.Run(ctx); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("no answer within %v: %w", timeout, err)
		}
		return err
	}
	return nil
}
