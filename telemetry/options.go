package telemetry

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Protocols of OTLP export.
const (
	ProtocolHTTP = "http/protobuf"
	ProtocolGRPC = "grpc"
)

// Options configure New. The zero value exports nothing unless the
// environment names an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT, or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT and …_METRICS_ENDPOINT).
type Options struct {
	// Endpoint is the OTLP endpoint, such as http://localhost:4318 (HTTP)
	// or http://localhost:4317 (gRPC); it wins over the environment's.
	Endpoint string
	// Protocol is ProtocolHTTP or ProtocolGRPC; "" takes
	// OTEL_EXPORTER_OTLP_PROTOCOL, else HTTP.
	Protocol string
	// ServiceName is the service.name when OTEL_SERVICE_NAME and
	// OTEL_RESOURCE_ATTRIBUTES name none; default "pbatunnel".
	ServiceName string
	// Version is the service.version.
	Version string
	// CapturePayloads puts a tool call's arguments and result on its span
	// (gen_ai.tool.call.arguments, gen_ai.tool.call.result), redacted as
	// the call log's payloads are. Off unless payload capture is on.
	CapturePayloads bool
	// Count, when set, is told of spans as they are exported, dropped or
	// lost, by the names below, so that the monitor's counters (and
	// /metrics) show them.
	Count func(name string, n uint64)
	// Getenv reads the environment; nil is os.Getenv. Tests set it.
	Getenv func(string) string
	// OnError, when set, is told of the errors the OpenTelemetry SDK
	// reports as it works (a metrics export that failed), at most once a
	// minute, with how many were left untold since. Unset, they are
	// dropped: the SDK would print them on stderr in a format of its own,
	// in the middle of the program's log. Spans lost are counted instead
	// (Count).
	OnError func(err error, untold int)
	// Warn, when set, is told of an OTEL_* variable that is not used as
	// it says, and why. A telemetry variable meant for other programs
	// must not stop an MCP server from starting: such values are warned
	// of and left for the default, as the specification asks.
	Warn func(msg string)
}

// Names Options.Count is called with.
const (
	CounterSpansExported = "otel_spans_exported"
	CounterSpansDropped  = "otel_spans_dropped" // the queue was full
	CounterSpansFailed   = "otel_spans_failed"  // the collector did not take them
)

// settings are Options resolved against the environment.
type settings struct {
	tracesEndpoint, metricsEndpoint string // "" leaves the exporter to read the environment
	tracesOn, metricsOn             bool
	tracesProtocol, metricsProto    string
	batching                        batching
	metricInterval                  time.Duration
	sampler                         sampler
}

// warn is o.Warn, or nothing.
func (o Options) warn() func(string) {
	if o.Warn == nil {
		return func(string) {}
	}
	return o.Warn
}

// resolve decides what is exported, where and how, from o and the
// environment, as the OpenTelemetry specification names the variables.
// An error is for Options only (a flag's value); the environment's bad
// values are warned of and replaced by defaults.
func (o Options) resolve() (settings, error) {
	env := o.Getenv
	if env == nil {
		env = os.Getenv
	}
	warn := o.warn()
	var s settings
	if strings.EqualFold(strings.TrimSpace(env("OTEL_SDK_DISABLED")), "true") {
		return s, nil
	}
	if o.Endpoint != "" {
		s.tracesEndpoint, s.metricsEndpoint = o.Endpoint, o.Endpoint
		s.tracesOn, s.metricsOn = true, true
	} else {
		all := strings.TrimSpace(env("OTEL_EXPORTER_OTLP_ENDPOINT"))
		if all != "" && !strings.Contains(all, "://") {
			// host:port, a common spelling: the exporters would send
			// to https:///v1/… and fail at every export.
			warn(fmt.Sprintf("OTEL_EXPORTER_OTLP_ENDPOINT=%q has no scheme: using http://%s", all, all))
			s.tracesEndpoint, s.metricsEndpoint = "http://"+all, "http://"+all
		}
		s.tracesOn = all != "" || schemed(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", warn)
		s.metricsOn = all != "" || schemed(env, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", warn)
	}
	// OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER: none turns one
	// signal off; OTLP is the only exporter here.
	for _, v := range []struct {
		key string
		on  *bool
	}{{"OTEL_TRACES_EXPORTER", &s.tracesOn}, {"OTEL_METRICS_EXPORTER", &s.metricsOn}} {
		switch e := strings.ToLower(strings.TrimSpace(env(v.key))); e {
		case "", "otlp":
		case "none":
			*v.on = false
		default:
			warn(fmt.Sprintf("%s=%q: only otlp and none are supported; exporting over OTLP", v.key, e))
		}
	}
	var err error
	if s.tracesProtocol, err = protocolOf(o.Protocol); err != nil {
		return s, err
	}
	if s.metricsProto, err = protocolOf(o.Protocol); err != nil {
		return s, err
	}
	if o.Protocol == "" {
		s.tracesProtocol = envProtocol(env, warn, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
		s.metricsProto = envProtocol(env, warn, "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	b := batching{QueueSize: defaultQueueSize, BatchSize: defaultBatchSize, ScheduleDelay: defaultScheduleDelay, ExportTimeout: defaultExportTimeout}
	for _, v := range []struct {
		key  string
		n    *int
		d    *time.Duration
		zero bool // 0 is a value: as soon as possible
	}{
		{key: "OTEL_BSP_MAX_QUEUE_SIZE", n: &b.QueueSize},
		{key: "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", n: &b.BatchSize},
		{key: "OTEL_BSP_SCHEDULE_DELAY", d: &b.ScheduleDelay, zero: true},
		{key: "OTEL_BSP_EXPORT_TIMEOUT", d: &b.ExportTimeout},
	} {
		raw := strings.TrimSpace(env(v.key))
		if raw == "" {
			continue
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 || (n == 0 && !v.zero) {
			warn(fmt.Sprintf("%s=%q: want a positive integer; using the default", v.key, raw))
			continue
		}
		if v.n != nil {
			*v.n = n
		} else {
			// A delay of 0 is a millisecond: a timer of none would spin.
			*v.d = max(time.Duration(n)*time.Millisecond, time.Millisecond)
		}
	}
	// The specification: a batch larger than the queue is the queue.
	b.BatchSize = min(b.BatchSize, b.QueueSize)
	s.batching = b
	s.sampler = samplerOf(env, warn)
	s.metricInterval = 60 * time.Second
	if raw := strings.TrimSpace(env("OTEL_METRIC_EXPORT_INTERVAL")); raw != "" {
		if n, err := strconv.Atoi(raw); err != nil || n <= 0 {
			warn(fmt.Sprintf("OTEL_METRIC_EXPORT_INTERVAL=%q: want a positive number of milliseconds; using 60000", raw))
		} else {
			s.metricInterval = time.Duration(n) * time.Millisecond
		}
	}
	return s, nil
}

// schemed reports whether the endpoint variable key is set with a scheme;
// set without one, it is warned of and left unused.
func schemed(env func(string) string, key string, warn func(string)) bool {
	v := strings.TrimSpace(env(key))
	if v == "" {
		return false
	}
	if !strings.Contains(v, "://") {
		warn(fmt.Sprintf("%s=%q has no scheme (http:// or https://): not exporting that signal", key, v))
		return false
	}
	return true
}

// envProtocol is the first protocol the variables name, in any case; an
// unknown one is warned of, and HTTP used.
func envProtocol(env func(string) string, warn func(string), keys ...string) string {
	for _, k := range keys {
		v := strings.ToLower(strings.TrimSpace(env(k)))
		if v == "" {
			continue
		}
		p, err := protocolOf(v)
		if err != nil {
			warn(fmt.Sprintf("%s: %v; using %s", k, err, ProtocolHTTP))
			return ProtocolHTTP
		}
		return p
	}
	return ProtocolHTTP
}

// protocolOf is the first protocol named, checked.
func protocolOf(names ...string) (string, error) {
	for _, p := range names {
		switch p = strings.TrimSpace(p); p {
		case "":
			continue
		case ProtocolHTTP, ProtocolGRPC:
			return p, nil
		case "http/json":
			return "", fmt.Errorf("OTLP protocol %q is not supported: use %s or %s", p, ProtocolHTTP, ProtocolGRPC)
		default:
			return "", fmt.Errorf("unknown OTLP protocol %q: want %s or %s", p, ProtocolHTTP, ProtocolGRPC)
		}
	}
	return ProtocolHTTP, nil
}
