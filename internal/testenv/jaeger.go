package testenv

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A Jaeger is a Jaeger (v2, built on the OpenTelemetry Collector) running
// for a test: it takes OTLP traces and metrics and answers trace queries.
type Jaeger struct {
	// OTLPHTTP and OTLPGRPC are the receivers' base URLs.
	OTLPHTTP, OTLPGRPC string
	// Query is the query service's base URL.
	Query string
	// Metrics is the Prometheus text the OTLP metrics it received become.
	Metrics string
	log     *Buffer
}

// jaegerConfig keeps every listener on loopback and a port of the test's:
// tests run in parallel, and Jaeger's defaults would take fixed ports.
const jaegerConfig = `service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
    metrics:
      receivers: [otlp]
      exporters: [prometheus]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:%[1]d
  jaeger_query:
    storage:
      traces: mem
    http:
      endpoint: 127.0.0.1:%[2]d
    grpc:
      endpoint: 127.0.0.1:%[3]d
  jaeger_storage:
    backends:
      mem:
        memory:
          max_traces: 10000
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%[4]d
      http:
        endpoint: 127.0.0.1:%[5]d
processors:
  batch:
    timeout: 100ms
exporters:
  prometheus:
    endpoint: 127.0.0.1:%[6]d
  jaeger_storage_exporter:
    trace_storage: mem
`

// StartJaeger starts Jaeger (from PATH, where scripts/test.sh builds it)
// and waits until it is healthy; it is stopped when the test ends.
func StartJaeger(t testing.TB) *Jaeger {
	t.Helper()
	bin := Require(t, "jaeger")
	ports := make([]int, 6)
	for i := range ports {
		ports[i] = FreePort(t)
	}
	cfg := filepath.Join(t.TempDir(), "jaeger.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, jaegerConfig, ports[0], ports[1], ports[2], ports[3], ports[4], ports[5]), 0o600); err != nil {
		t.Fatal(err)
	}
	j := &Jaeger{
		OTLPHTTP: "http://" + Addr(ports[4]),
		OTLPGRPC: "http://" + Addr(ports[3]),
		Query:    "http://" + Addr(ports[1]),
		Metrics:  "http://" + Addr(ports[5]) + "/metrics",
		log:      &Buffer{},
	}
	cmd := exec.Command(bin, "--config", "file:"+cfg)
	cmd.Stdout, cmd.Stderr = j.log, j.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting jaeger: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("jaeger's log:\n%s", j.log.String())
		}
	})
	WaitHTTP(t, "http://"+Addr(ports[0])+"/status", time.Minute)
	return j
}

// A JaegerSpan is a span as Jaeger's query API returns it.
type JaegerSpan struct {
	TraceID, SpanID, ParentSpanID string
	Name                          string
	Kind                          int // OTLP: 2 server, 3 client
	Service                       string
	Attributes                    map[string]string
	StatusCode                    int
}

// Span kinds in OTLP.
const (
	SpanKindServer = 2
	SpanKindClient = 3
)

// Trace polls Jaeger until the trace holds at least n spans, or the
// timeout passes, and returns its spans.
func (j *Jaeger) Trace(t testing.TB, traceID string, n int, timeout time.Duration) []JaegerSpan {
	t.Helper()
	var spans []JaegerSpan
	for deadline := time.Now().Add(timeout); ; time.Sleep(200 * time.Millisecond) {
		spans = j.trace(t, traceID)
		if len(spans) >= n {
			return spans
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %s has %d spans in Jaeger after %v, want %d: %+v", traceID, len(spans), timeout, n, spans)
		}
	}
}

func (j *Jaeger) trace(t testing.TB, traceID string) []JaegerSpan {
	t.Helper()
	res, err := http.Get(j.Query + "/api/v3/traces/" + traceID)
	if err != nil {
		t.Fatalf("querying jaeger: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusNotFound {
		return nil
	}
	type attr struct {
		Key   string
		Value map[string]any
	}
	var body struct {
		Result struct {
			ResourceSpans []struct {
				Resource struct {
					Attributes []attr
				}
				ScopeSpans []struct {
					Spans []struct {
						TraceID      string `json:"traceId"`
						SpanID       string `json:"spanId"`
						ParentSpanID string `json:"parentSpanId"`
						Name         string
						Kind         int
						Attributes   []attr
						Status       struct{ Code int }
					}
				}
			}
		}
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("jaeger's answer (%s): %v", res.Status, err)
	}
	flat := func(as []attr) map[string]string {
		m := map[string]string{}
		for _, a := range as {
			for _, v := range a.Value {
				m[a.Key] = strings.Trim(fmt.Sprint(v), `"`)
			}
		}
		return m
	}
	var out []JaegerSpan
	for _, rs := range body.Result.ResourceSpans {
		service := flat(rs.Resource.Attributes)["service.name"]
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				out = append(out, JaegerSpan{TraceID: s.TraceID, SpanID: s.SpanID, ParentSpanID: s.ParentSpanID, Name: s.Name,
					Kind: s.Kind, Service: service, Attributes: flat(s.Attributes), StatusCode: s.Status.Code})
			}
		}
	}
	return out
}
