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
}

// resolve decides what is exported, where and how, from o and the
// environment, as the OpenTelemetry specification names the variables.
func (o Options) resolve() (settings, error) {
	env := o.Getenv
	if env == nil {
		env = os.Getenv
	}
	var s settings
	if strings.EqualFold(strings.TrimSpace(env("OTEL_SDK_DISABLED")), "true") {
		return s, nil
	}
	if o.Endpoint != "" {
		s.tracesEndpoint, s.metricsEndpoint = o.Endpoint, o.Endpoint
		s.tracesOn, s.metricsOn = true, true
	} else {
		all := env("OTEL_EXPORTER_OTLP_ENDPOINT") != ""
		s.tracesOn = all || env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
		s.metricsOn = all || env("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") != ""
	}
	// OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER=none turn one signal off.
	if strings.EqualFold(env("OTEL_TRACES_EXPORTER"), "none") {
		s.tracesOn = false
	}
	if strings.EqualFold(env("OTEL_METRICS_EXPORTER"), "none") {
		s.metricsOn = false
	}
	var err error
	if s.tracesProtocol, err = protocolOf(o.Protocol, env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), env("OTEL_EXPORTER_OTLP_PROTOCOL")); err != nil {
		return s, err
	}
	if s.metricsProto, err = protocolOf(o.Protocol, env("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"), env("OTEL_EXPORTER_OTLP_PROTOCOL")); err != nil {
		return s, err
	}
	b := batching{QueueSize: defaultQueueSize, BatchSize: defaultBatchSize, ScheduleDelay: defaultScheduleDelay, ExportTimeout: defaultExportTimeout}
	for _, v := range []struct {
		key string
		n   *int
		d   *time.Duration
	}{
		{key: "OTEL_BSP_MAX_QUEUE_SIZE", n: &b.QueueSize},
		{key: "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", n: &b.BatchSize},
		{key: "OTEL_BSP_SCHEDULE_DELAY", d: &b.ScheduleDelay},
		{key: "OTEL_BSP_EXPORT_TIMEOUT", d: &b.ExportTimeout},
	} {
		raw := strings.TrimSpace(env(v.key))
		if raw == "" {
			continue
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n <= 0 {
			return s, fmt.Errorf("%s=%q: want a positive integer", v.key, raw)
		}
		if v.n != nil {
			*v.n = n
		} else {
			*v.d = time.Duration(n) * time.Millisecond
		}
	}
	// The specification: a batch larger than the queue is the queue.
	b.BatchSize = min(b.BatchSize, b.QueueSize)
	s.batching = b
	s.metricInterval = 60 * time.Second
	if raw := strings.TrimSpace(env("OTEL_METRIC_EXPORT_INTERVAL")); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n <= 0 {
			return s, fmt.Errorf("OTEL_METRIC_EXPORT_INTERVAL=%q: want a positive number of milliseconds", raw)
		}
		s.metricInterval = time.Duration(n) * time.Millisecond
	}
	return s, nil
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
