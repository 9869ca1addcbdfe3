package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// ScopeName is the instrumentation scope of every span and metric.
const ScopeName = "github.com/mcp-pba-tunnel/pbatunnel"

// Telemetry holds the span export and meters of one process. Nil is off.
type Telemetry struct {
	mp *sdkmetric.MeterProvider
	// Spans: nil sink is no tracing.
	sink    sink
	batch   *batcher // the sink, when exporting over OTLP
	sampler sampler
	limits  sdktrace.SpanLimits // OTEL_SPAN_ATTRIBUTE_*_LIMIT, as the SDK reads them
	res     *resource.Resource
	scope   instrumentation.Scope
	opts    Options
	ops     [2]metric.Float64Histogram // operation duration, by Kind
	session [2]metric.Float64Histogram // session duration, by Kind
	metrics bool
	sets    attrSets
}

// New starts the export o and the environment ask for, or returns nil
// when they ask for none. Exporters connect lazily: a collector that is
// down costs failed exports, counted, not an error here.
func New(ctx context.Context, o Options) (*Telemetry, error) {
	s, err := o.resolve()
	if err != nil {
		return nil, err
	}
	if !s.tracesOn && !s.metricsOn {
		return nil, nil
	}
	// The SDK's errors go to the program's log, or nowhere; the handler
	// is the process's, as the SDK has one.
	otel.SetErrorHandler(&errorGate{tell: o.OnError, every: time.Minute})
	if o.ServiceName == "" {
		o.ServiceName = "pbatunnel"
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", o.ServiceName), attribute.String("service.version", o.Version)),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
	)
	if err != nil && res == nil {
		return nil, fmt.Errorf("telemetry resource: %w", err)
	}
	t := &Telemetry{opts: o, res: res, scope: instrumentation.Scope{Name: ScopeName, Version: o.Version}, sampler: s.sampler,
		limits: sdktrace.NewSpanLimits()}
	if s.tracesOn {
		client, err := traceClient(s, s.tracesEndpoint)
		if err != nil {
			return nil, err
		}
		up, err := newOTLPUploader(ctx, client, res, t.scope)
		if err != nil {
			return nil, err
		}
		t.batch = newBatcher(up, s.batching, o.Count)
		t.sink = t.batch
	}
	if s.metricsOn {
		exp, err := metricExporter(ctx, s, s.metricsEndpoint)
		if err != nil {
			t.shutdownTraces(ctx)
			return nil, err
		}
		t.mp = sdkmetric.NewMeterProvider(sdkmetric.WithResource(res),
			sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(s.metricInterval))))
		if err := t.instruments(t.mp.Meter(ScopeName, metric.WithInstrumentationVersion(o.Version))); err != nil {
			_ = t.Shutdown(ctx)
			return nil, err
		}
		t.metrics = true
	}
	return t, nil
}

// NewWith is New with the given span processor and metric reader instead
// of OTLP exporters (either may be nil): for tests, and for programs that
// export their own way.
// Spans are sampled as the environment says (OTEL_TRACES_SAMPLER); each
// is handed to sp as it ends.
func NewWith(o Options, sp sdktrace.SpanProcessor, reader sdkmetric.Reader) (*Telemetry, error) {
	var s sink
	if sp != nil {
		s = processorSink{sp}
	}
	return newWithSink(o, s, reader)
}

func newWithSink(o Options, s sink, reader sdkmetric.Reader) (*Telemetry, error) {
	env := o.Getenv
	if env == nil {
		env = os.Getenv
	}
	t := &Telemetry{opts: o, sink: s, res: resource.Default(), scope: instrumentation.Scope{Name: ScopeName, Version: o.Version},
		sampler: samplerOf(env, o.warn()), limits: sdktrace.NewSpanLimits()}
	if reader != nil {
		t.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		if err := t.instruments(t.mp.Meter(ScopeName)); err != nil {
			return nil, err
		}
		t.metrics = true
	}
	return t, nil
}

// signalURL is the endpoint of one signal under a base endpoint, as
// OTEL_EXPORTER_OTLP_ENDPOINT is read: over HTTP, the signal's path is
// appended.
func signalURL(base, protocol, path string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("OTLP endpoint %q: want http://host:port or https://host:port", base)
	}
	if protocol == ProtocolGRPC {
		return base, nil
	}
	return strings.TrimSuffix(base, "/") + path, nil
}

// traceClient is the SDK's OTLP exporter client for traces, as s and the
// environment configure it; the records it sends are built by
// otlpUploader.
func traceClient(s settings, endpoint string) (otlptrace.Client, error) {
	if s.tracesProtocol == ProtocolGRPC {
		var opts []otlptracegrpc.Option
		if endpoint != "" {
			u, err := signalURL(endpoint, ProtocolGRPC, "")
			if err != nil {
				return nil, err
			}
			opts = append(opts, otlptracegrpc.WithEndpointURL(u))
		}
		return otlptracegrpc.NewClient(opts...), nil
	}
	// Protobuf, always: the client reads OTEL_EXPORTER_OTLP_*PROTOCOL
	// itself, and would send the http/json that resolve refused.
	opts := []otlptracehttp.Option{otlptracehttp.WithEncoding(otlptracehttp.EncodingProtobuf)}
	if endpoint != "" {
		u, err := signalURL(endpoint, ProtocolHTTP, "/v1/traces")
		if err != nil {
			return nil, err
		}
		opts = append(opts, otlptracehttp.WithEndpointURL(u))
	}
	return otlptracehttp.NewClient(opts...), nil
}

func metricExporter(ctx context.Context, s settings, endpoint string) (sdkmetric.Exporter, error) {
	if s.metricsProto == ProtocolGRPC {
		var opts []otlpmetricgrpc.Option
		if endpoint != "" {
			u, err := signalURL(endpoint, ProtocolGRPC, "")
			if err != nil {
				return nil, err
			}
			opts = append(opts, otlpmetricgrpc.WithEndpointURL(u))
		}
		return otlpmetricgrpc.New(ctx, opts...)
	}
	var opts []otlpmetrichttp.Option
	if endpoint != "" {
		u, err := signalURL(endpoint, ProtocolHTTP, "/v1/metrics")
		if err != nil {
			return nil, err
		}
		opts = append(opts, otlpmetrichttp.WithEndpointURL(u))
	}
	return otlpmetrichttp.New(ctx, opts...)
}

// Tracing reports whether spans are made.
func (t *Telemetry) Tracing() bool { return t != nil && t.sink != nil }

// Stats say what became of the spans made.
type Stats struct {
	Exported uint64 // sent to the collector
	Dropped  uint64 // lost to a full queue (or ended after shutdown)
	Failed   uint64 // in batches the collector did not take
	// LastError is the latest export failure, "" when there was none.
	LastError string
}

// Stats returns the span counts so far; zero when tracing is off.
func (t *Telemetry) Stats() Stats {
	if t == nil || t.batch == nil {
		return Stats{}
	}
	s := Stats{Exported: t.batch.exported.Load(), Dropped: t.batch.dropped.Load(), Failed: t.batch.failed.Load()}
	if e := t.batch.lastErr.Load(); e != nil {
		s.LastError = *e
	}
	return s
}

// Shutdown exports what is pending, within ctx, and stops.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	// The requests still to be made into spans and durations first: the
	// durations must be recorded before the metrics' last export.
	if t.batch != nil {
		t.batch.ends.close()
		t.batch.ends.end()
	}
	// Side by side: a slow collector must not leave the metrics of the
	// last moments (session durations at exit) no time of their own.
	var merr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		if t.mp != nil {
			merr = t.mp.Shutdown(ctx)
		}
	}()
	err := t.shutdownTraces(ctx)
	<-done
	return errors.Join(err, merr)
}

func (t *Telemetry) shutdownTraces(ctx context.Context) error {
	if t.sink == nil {
		return nil
	}
	return t.sink.Shutdown(ctx)
}

// ForceFlush sends the spans and metrics pending now.
func (t *Telemetry) ForceFlush(ctx context.Context) error {
	if t == nil {
		return nil
	}
	if t.batch != nil {
		t.batch.ends.end() // spans and durations of the requests over
	}
	var err error
	if t.sink != nil {
		err = t.sink.ForceFlush(ctx)
	}
	if t.mp != nil {
		err = errors.Join(err, t.mp.ForceFlush(ctx))
	}
	return err
}

// errorGate hands the SDK's errors on, one per period at most.
type errorGate struct {
	tell   func(err error, untold int)
	every  time.Duration
	mu     sync.Mutex
	last   time.Time
	untold int
}

func (g *errorGate) Handle(err error) {
	if g.tell == nil {
		return
	}
	g.mu.Lock()
	now := time.Now()
	if !g.last.IsZero() && now.Sub(g.last) < g.every {
		g.untold++
		g.mu.Unlock()
		return
	}
	untold := g.untold
	g.last, g.untold = now, 0
	g.mu.Unlock()
	g.tell(err, untold)
}

// seconds is a duration as the conventions' histograms take it.
func seconds(d time.Duration) float64 { return d.Seconds() }
