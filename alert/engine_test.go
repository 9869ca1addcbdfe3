package alert

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// recorder is a Handler that keeps what it gets.
type recorder struct {
	mu     sync.Mutex
	alerts []Alert
}

func (r *recorder) HandleAlert(_ context.Context, a Alert) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.alerts = append(r.alerts, a)
	return nil
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, a := range r.alerts {
		out = append(out, a.Rule+" "+a.Metric+" "+string(a.Transition)+":"+string(a.Level))
	}
	return out
}

func TestAlertEngineEndToEnd(t *testing.T) {
	ctx := context.Background()
	m, clock := newRig(Options{NoDefaultRules: true})
	depth := m.Gauge("queue_depth")
	if err := m.AddRule(Rule{Name: "queue", Metric: "custom.queue_depth", Warning: Ptr(100), Critical: Ptr(500), Advice: "add workers"}); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	m.OnAlert(rec)

	for _, v := range []float64{10, 150, 600, 10} {
		depth.Set(v)
		m.Sample(ctx)
		if v == 600 {
			if as := m.Active(); len(as) != 1 || as[0].State != StateFiring || as[0].Level != LevelCritical {
				t.Errorf("alerts while critical: %+v", as)
			}
		}
		clock.Advance(10 * time.Second)
	}
	want := []string{
		"queue custom.queue_depth firing:warning",
		"queue custom.queue_depth escalated:critical",
		"queue custom.queue_depth resolved:info",
	}
	if got := rec.got(); !slices.Equal(got, want) {
		t.Errorf("handler got %q, want %q", got, want)
	}
	if h := m.Engine.History(); len(h) != 3 || h[0].Advice != "add workers" {
		t.Errorf("history %+v", h)
	}
	if as := m.Active(); len(as) != 0 {
		t.Errorf("alerts after resolve: %+v", as)
	}
	if st := m.HandlerStats(); len(st) != 1 || st[0].Delivered != 3 {
		t.Errorf("handler stats %+v", st)
	}
}

func TestPatternRulePerTool(t *testing.T) {
	ctx := context.Background()
	m, clock := newRig(Options{NoDefaultRules: true})
	if err := m.AddRule(Rule{Name: "tool_errors", Metric: "tool.*.error_rate_percent", Warning: Ptr(20)}); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	m.OnAlert(rec)
	m.Sample(ctx)
	clock.Advance(10 * time.Second)
	for i := range 10 {
		m.RecordToolUsage("code_analysis", time.Millisecond, i >= 5) // half fail
		m.RecordToolUsage("enhanced_memory", time.Millisecond, true)
	}
	m.Sample(ctx)
	want := []string{"tool_errors tool.code_analysis.error_rate_percent firing:warning"}
	if got := rec.got(); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestIdleServerIsNotSlow drives the built-in throughput and error-rate
// rules: quiet periods never alert, a busy slow server does.
func TestIdleServerIsNotSlow(t *testing.T) {
	ctx := context.Background()
	m, clock := newRig(Options{})
	rec := &recorder{}
	m.OnAlert(rec)
	tick := func(calls int, d time.Duration, failures int) {
		clock.Advance(10 * time.Second)
		for i := range calls {
			m.RecordToolUsage("enhanced_memory", d, i >= failures)
		}
		m.Sample(ctx)
	}
	m.Sample(ctx)
	// Ten idle minutes, then a trickle: one call a minute, which fails.
	for range 60 {
		tick(0, 0, 0)
	}
	for range 12 {
		tick(1, 5*time.Millisecond, 1)
	}
	if got := rec.got(); len(got) != 0 {
		t.Fatalf("an idle or barely used server raised %q", got)
	}
	// Busy and slow: 20 calls of 1 s in every 10 s (two in flight on
	// average), 2 calls/s, and a quarter of them failing.
	for range 10 { // a minute to fill the window, then `for` of a minute
		tick(20, time.Second, 5)
	}
	got := rec.got()
	want := []string{
		"error_rate error_rate_percent firing:critical",
		"throughput throughput_operations_per_second firing:critical",
	}
	if !slices.Equal(got, want) {
		t.Errorf("busy slow server: got %q, want %q", got, want)
	}
	// Load stops: both resolve.
	for range 8 {
		tick(0, 0, 0)
	}
	if got := rec.got(); len(got) != 4 {
		t.Errorf("after the load stopped: %q", got)
	}
}

func TestSetThresholds(t *testing.T) {
	m, _ := newRig(Options{})
	if err := m.SetThresholds(map[string]Threshold{RuleMemoryUsage: {Warning: 60, Critical: 70}}); err != nil {
		t.Fatal(err)
	}
	th := ThresholdsOf(m.Rules())
	if th[RuleMemoryUsage] != (Threshold{60, 70}) || th[RuleCPUUsage] != (Threshold{70, 85}) {
		t.Errorf("thresholds %+v", th)
	}
	// One bad entry and nothing changes.
	err := m.SetThresholds(map[string]Threshold{RuleCPUUsage: {Warning: 10, Critical: 20}, RuleCacheHitRate: {Warning: 30, Critical: 50}})
	var re *RuleError
	if !errors.As(err, &re) || re.Rule != RuleCacheHitRate || re.Field != "warning" {
		t.Fatalf("error %v, want a RuleError for cache_hit_rate.warning", err)
	}
	if ThresholdsOf(m.Rules())[RuleCPUUsage] != (Threshold{70, 85}) {
		t.Error("a rejected SetThresholds changed cpu_usage")
	}
	if err := m.SetThresholds(map[string]Threshold{"disk": {1, 2}}); !errors.Is(err, ErrInvalidRule) {
		t.Errorf("unknown threshold name: %v", err)
	}
	// Rules on registered application gauges are accepted.
	if err := m.AddRule(Rule{Metric: "pending_jobs", Warning: Ptr(1)}); err == nil {
		t.Error("rule on an unregistered gauge accepted")
	}
	_ = m.RegisterGauge("pending_jobs", func() (float64, error) { return 0, nil })
	if err := m.AddRule(Rule{Metric: "pending_jobs", Warning: Ptr(1)}); err != nil {
		t.Errorf("rule on a registered gauge: %v", err)
	}
}

// TestSlowHandlerDoesNotBlockSampling runs the monitor with a handler that
// blocks: sampling goes on, the handler's queue fills to its bound, and the
// rest are dropped and counted.
func TestSlowHandlerDoesNotBlockSampling(t *testing.T) {
	m := monitor.New(monitor.Options{DisableSystem: true})
	e := New(m, Options{NoDefaultRules: true, Queue: 2})
	flip := m.Gauge("flip")
	if err := e.AddRule(Rule{Metric: "custom.flip", Warning: Ptr(0.5)}); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	inHand := make(chan struct{}, 10)
	blocked := HandlerFunc(func(ctx context.Context, a Alert) error {
		inHand <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})
	fast := &recorder{}
	e.OnAlert(blocked)
	e.OnAlert(fast)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.Start(ctx)
	if err := m.Start(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	// Every sample flips the gauge across the threshold: one transition
	// each. Sampling never waits for the blocked handler; the test waits
	// for the fast one so that its own small queue never overflows.
	for i := range 10 {
		flip.Set(float64(i % 2))
		m.Sample(ctx)
		deadline := time.Now().Add(30 * time.Second)
		for len(fast.got()) < i && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if n := len(fast.got()); n != i {
			t.Fatalf("after sample %d the fast handler has %d notifications, want %d", i, n, i)
		}
		if i == 1 {
			<-inHand // the blocked handler has taken the first one
		}
	}
	st := e.HandlerStats()
	// The blocked handler holds one in hand and two queued; six dropped.
	if st[0].Dropped != 6 || st[0].Queued != 2 || st[1].Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
	close(release)
	m.Stop()
	cancel()
	e.Wait()
}
