package dashboard_test

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/dashboard"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// quietEnv is a dashboard over a monitor on a settable clock with a
// recent window other than the default and no calls yet: an idle server.
type quietEnv struct {
	m     *monitor.Monitor
	clock *testenv.Clock
	ctx   context.Context
	base  string
}

func startQuietEnv(t *testing.T) *quietEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	clock := testenv.NewClockAt(time.Now())
	m := monitor.New(monitor.Options{DisableSystem: true, RecentWindow: 2 * time.Minute, Now: clock.Now})
	e := alert.New(m, alert.Options{})
	m.Sample(ctx)
	clock.Advance(time.Second)
	m.Sample(ctx)
	base := serveDashboard(t, ctx, cancel, m, dashboard.Options{PollInterval: time.Second, Alerts: e})
	return &quietEnv{m: m, clock: clock, ctx: ctx, base: base}
}

const (
	jsThroughputCard = `document.querySelector('#card-throughput_operations_per_second')`
	jsLatencyPlot    = `document.querySelector('#chart-latency .plot')`
	jsLatencyLog     = `document.querySelector('#chart-latency-log')`
)

// chartCaption is what the page says one point of chart id is.
func chartCaption(tb *tab, id string) string {
	return eval[string](tb, fmt.Sprintf(`document.querySelector('#chart-%s .chart-what').textContent`, id))
}

// checkCaptions compares the charts' captions with the windows the server
// reports: the latency percentiles' recent window from /api/config, the
// rates' minute from the report.
func checkCaptions(t *testing.T, tb *tab, base, wantRecent string) {
	t.Helper()
	var cfg struct {
		Monitor struct {
			RecentWindowSeconds float64 `json:"recent_window_seconds"`
		} `json:"monitor"`
	}
	getJSON(t, base+"/api/config", &cfg)
	if got := fmt.Sprintf("%g min", cfg.Monitor.RecentWindowSeconds/60); got != wantRecent {
		t.Fatalf("the server's recent window is %s, want %s", got, wantRecent)
	}
	if got, want := chartCaption(tb, "latency"), "over the recent window ("+wantRecent+")"; !strings.Contains(got, want) {
		t.Errorf("latency caption %q, want it to say %q", got, want)
	}
	var rep struct {
		SystemOverview struct {
			RateWindowSeconds float64 `json:"rate_window_seconds"`
		} `json:"system_overview"`
	}
	getJSON(t, base+"/api/metrics", &rep)
	minute := "minute"
	switch w := rep.SystemOverview.RateWindowSeconds; {
	case math.Abs(w-60) < 0.5:
	case w >= 1:
		minute = fmt.Sprintf("%d s", int(math.Round(w)))
	default:
		minute = strconv.FormatFloat(math.Round(w*1000)/1000, 'f', -1, 64) + " s"
	}
	for _, id := range []string{"throughput", "errors", "cache"} {
		if got, want := chartCaption(tb, id), "per sample, over the last "+minute; !strings.Contains(got, want) {
			t.Errorf("%s caption %q, want it to say %q", id, got, want)
		}
	}
	for _, id := range []string{"cpu", "memory"} {
		if got := chartCaption(tb, id); !strings.Contains(got, "at each sample") {
			t.Errorf("%s caption %q, want it to say \"at each sample\"", id, got)
		}
	}
}

// TestBrowserQuiet drives the Overview of a server with another recent
// window, idle and then busy but slow.
func TestBrowserQuiet(t *testing.T) {
	b := startBrowser(t)
	env := startQuietEnv(t)
	tb := b.open(t, env.base+"/", desktop)
	tb.wait("the charts", jsChartsDrawn)
	tb.wait("the live stream", jsLive)

	t.Run("Captions", func(t *testing.T) {
		tb.wait("the captions", `document.querySelector('#chart-latency .chart-what').textContent !== ''`)
		checkCaptions(t, tb, env.base, "2 min")
	})

	t.Run("Idle", func(t *testing.T) {
		// No calls: the throughput is 0, below both of the rule's levels,
		// but nobody asked for more.
		tb.wait("the idle throughput card", jsThroughputCard+`.dataset.state === 'idle'`)
		if chip := eval[string](tb, jsThroughputCard+`.querySelector('.chip').textContent`); chip != "no traffic" {
			t.Errorf("idle throughput card chip = %q, want \"no traffic\"", chip)
		}
		if note := eval[string](tb, jsThroughputCard+`.querySelector('.note').textContent`); !strings.HasPrefix(note, "no traffic") {
			t.Errorf("idle throughput card note = %q, want it to say no traffic", note)
		}
		if idle := eval[string](tb, `document.querySelector('#chart-throughput').dataset.idle`); idle != "true" {
			t.Errorf("throughput chart idle = %q, want true (no warning bands)", idle)
		}
		tb.screenshot("overview-idle")
	})

	t.Run("LevelFunction", func(t *testing.T) {
		// The card's level, checked case by case through the page's own
		// module.
		got := evalAsync[string](tb, `(async () => {
			const { cardLevel, idleOf } = await import('/static/js/levels.js');
			const rule = { metric: 'throughput_operations_per_second', direction: 'below', warning: 10, critical: 5,
				only_if: { metric: 'average_concurrency', at_least: 1 } };
			const rep = (lm) => ({ performance: { throughput_operations_per_second: { last_interval: lm, last_minute: lm } } });
			const lv = (report, engine) => cardLevel({ key: rule.metric, rule, value: 0.5,
				engine: (firingOnly) => (firingOnly && engine === 'pending-critical' ? '' : engine === 'pending-critical' ? 'critical' : engine),
				idle: idleOf(report) });
			const out = [];
			const want = (what, got, w) => { if (got !== w) out.push(what + ': ' + got + ', want ' + w); };
			want('no calls in the minute', lv(rep(0), ''), 'idle');
			want('no time between samples', lv(rep({ unavailable: 'no time between samples' }), ''), 'idle');
			want('calls, not busy, nothing pending', lv(rep(0.5), ''), 'ok');
			want('busy and slow, pending critical', lv(rep(0.5), 'pending-critical'), 'critical');
			want('busy and slow, firing warning', lv(rep(0.5), 'warning'), 'warning');
			want('idle wins over a stale alert', lv(rep(0), 'critical'), 'idle');
			const mem = { direction: 'above', warning: 80, critical: 90 };
			const m = (v) => cardLevel({ key: 'memory_usage_percent', rule: mem, value: v, engine: () => '', idle: idleOf(rep(0)) });
			want('memory on an idle server', m(85), 'warning');
			return out.join('; ');
		})()`)
		if got != "" {
			t.Error(got)
		}
	})

	t.Run("LogScale", func(t *testing.T) {
		// A call of 0 ms: its percentiles are 0, which a log axis has no
		// place for; they must leave a gap, not break the chart.
		env.clock.Advance(time.Second)
		env.m.RecordCall(monitor.Call{Start: env.clock.Now(), Method: "tools/call", Tool: "instant", Transport: monitor.TransportHTTP})
		env.m.Sample(env.ctx)
		tb.wait("the 0 ms point", `document.querySelector('#chart-latency .u-legend') !== null && `+jsLatencyPlot+`.dataset.points >= 3`)
		if got := eval[string](tb, jsLatencyPlot+`.dataset.distr`); got != "1" {
			t.Fatalf("latency y scale distr = %q before the toggle, want 1 (linear)", got)
		}
		tb.click("#chart-latency-log")
		tb.wait("a log latency axis", jsLatencyPlot+`.dataset.distr === '3' && `+jsLatencyLog+`.getAttribute('aria-pressed') === 'true'`)
		tb.do(chromedp.Reload())
		tb.wait("the charts again", jsChartsDrawn)
		tb.wait("the log axis kept across a reload", jsLatencyPlot+`.dataset.distr === '3' && `+jsLatencyLog+`.getAttribute('aria-pressed') === 'true'`)
		tb.click("#chart-latency-log")
		tb.wait("a linear latency axis", jsLatencyPlot+`.dataset.distr === '1' && `+jsLatencyLog+`.getAttribute('aria-pressed') === 'false'`)
		tb.do(chromedp.Reload())
		tb.wait("the charts again", jsChartsDrawn)
		if got := eval[string](tb, jsLatencyPlot+`.dataset.distr`); got != "1" {
			t.Errorf("latency y scale distr = %q after switching back and reloading, want 1", got)
		}
		tb.click("#chart-latency-log")
		tb.wait("a log latency axis", jsLatencyPlot+`.dataset.distr === '3'`)
	})

	t.Run("BusySlow", func(t *testing.T) {
		// Three calls of 59 s each in a minute: always at least one in
		// flight (average concurrency near 3), yet 0.05 calls a second.
		env.clock.Advance(time.Minute)
		now := env.clock.Now()
		for i := range 3 {
			env.m.RecordCall(monitor.Call{Start: now.Add(-59 * time.Second), Duration: 59 * time.Second,
				Method: "tools/call", Tool: fmt.Sprintf("slow_%d", i), Transport: monitor.TransportHTTP})
		}
		env.m.Sample(env.ctx)
		tb.wait("the busy throughput card in warning or worse",
			`['warning', 'critical'].includes(`+jsThroughputCard+`.dataset.state)`)
		if chip := eval[string](tb, jsThroughputCard+`.querySelector('.chip').textContent`); chip == "no traffic" {
			t.Errorf("busy throughput card chip = %q", chip)
		}
		if idle := eval[string](tb, `document.querySelector('#chart-throughput').dataset.idle`); idle != "false" {
			t.Errorf("throughput chart idle = %q on a busy server, want false", idle)
		}
		tb.screenshot("overview-busy")
	})
}

// evalAsync evaluates a JavaScript expression whose value is a promise and
// decodes what it resolves to into T.
func evalAsync[T any](tb *tab, expr string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}
