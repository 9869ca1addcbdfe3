package monitor

import (
	"context"
	"log/slog"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor/host"
)

// Defaults used when an Options field is zero.
const (
	DefaultInterval     = 30 * time.Second
	DefaultMaxSamples   = 2880 // 24 h at the default interval
	DefaultMaxAge       = 24 * time.Hour
	DefaultRecentWindow = 5 * time.Minute
	DefaultTrendWindow  = 15 * time.Minute
	DefaultMaxTools     = 256
)

// A HostCollector reads the host, its container and this process once per
// sample. The sampler is its only caller, one sample at a time, so an
// implementation may keep the previous reading to compute rates against.
type HostCollector interface {
	Collect(ctx context.Context, now time.Time) host.Stats
}

// Options configure a Monitor. The zero value is a good default for every
// field.
type Options struct {
	// Interval between samples when Start is given 0. Default 30 s.
	Interval time.Duration
	// MaxSamples bounds the history by count. Default 2880.
	MaxSamples int
	// MaxAge bounds the history by age. Default 24 h. Whichever of MaxSamples
	// and MaxAge is tighter wins.
	MaxAge time.Duration
	// RecentWindow is the span of the "recent" latency percentiles.
	// Default 5 min.
	RecentWindow time.Duration
	// TrendWindow is the span trends are computed over. Default 15 min.
	TrendWindow time.Duration
	// MaxTools bounds the number of distinct tool names tracked, so a client
	// inventing names cannot grow memory without end; calls to further names
	// are counted under OtherTool. Default 256.
	MaxTools int
	// DisableSystem turns off host and process collection (for tests and for
	// embedding where another agent already watches the host).
	DisableSystem bool
	// Host reads the host, its container and this process on every
	// sample. Default: host.New with the real /proc and /sys.
	Host HostCollector
	// CallRing is how many recent calls (RecordCall) are kept for readers
	// that ask for them later. Default 10 000; a negative value keeps none.
	CallRing int
	// Logger receives the monitor's own warnings. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now, read coarsely on the recording
	// path (see clock.go); a clock given here is read on every call, so
	// that tests and simulations get exact times.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.MaxSamples <= 0 {
		o.MaxSamples = DefaultMaxSamples
	}
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.RecentWindow <= 0 {
		o.RecentWindow = DefaultRecentWindow
	}
	if o.TrendWindow <= 0 {
		o.TrendWindow = DefaultTrendWindow
	}
	if o.MaxTools <= 0 {
		o.MaxTools = DefaultMaxTools
	}
	if o.CallRing == 0 {
		o.CallRing = DefaultCallRing
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
