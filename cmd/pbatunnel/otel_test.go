package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
	"github.com/mcp-pba-tunnel/pbatunnel/telemetry"
)

// otelEnv makes export quick enough for a test: spans leave within
// 100 ms, metrics every half second.
var otelEnv = []string{"OTEL_BSP_SCHEDULE_DELAY=100", "OTEL_METRIC_EXPORT_INTERVAL=500"}

// TestServeTracesToJaeger: serve exports over OTLP, by HTTP and by gRPC,
// to a real Jaeger: a tools/call carrying a traceparent in _meta is a
// SERVER span of the caller's trace there, with the conventions' name and
// attributes; the call log names the trace; the duration metric reaches
// Jaeger's OTLP metrics receiver.
func TestServeTracesToJaeger(t *testing.T) {
	j := testenv.StartJaeger(t)
	for _, tt := range []struct {
		protocol, endpoint, traceID string
	}{
		{telemetry.ProtocolHTTP, j.OTLPHTTP, "5bf92f3577b34da6a3ce929d0e0e4736"},
		{telemetry.ProtocolGRPC, j.OTLPGRPC, "6bf92f3577b34da6a3ce929d0e0e4736"},
	} {
		t.Run(tt.protocol, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			service := "pbatunnel-serve-" + strings.Split(tt.protocol, "/")[0] // a Prometheus job of its own
			mcpURL := startServeEnv(t, append(otelEnv, "OTEL_SERVICE_NAME="+service), "--otlp-endpoint", tt.endpoint, "--otlp-protocol", tt.protocol)
			base := strings.TrimSuffix(mcpURL, "/mcp")
			cs, err := mcp.NewClient(&mcp.Implementation{Name: "otel-test", Version: "1"}, nil).
				Connect(ctx, &mcp.StreamableClientTransport{Endpoint: mcpURL}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			const callerSpan = "00f067aa0ba902b7"
			if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "performance_report", Arguments: map[string]any{},
				Meta: mcp.Meta{"traceparent": "00-" + tt.traceID + "-" + callerSpan + "-01"}}); err != nil {
				t.Fatal(err)
			}
			spans := j.Trace(t, tt.traceID, 1, time.Minute)
			s := spans[0]
			if s.Name != "tools/call performance_report" || s.Kind != testenv.SpanKindServer || s.ParentSpanID != callerSpan || s.Service != service {
				t.Errorf("span in Jaeger: %+v", s)
			}
			for k, want := range map[string]string{
				telemetry.AttrMethod: "tools/call", telemetry.AttrToolName: "performance_report", telemetry.AttrOperation: "execute_tool",
				telemetry.AttrNetworkTransport: "tcp", telemetry.AttrClientAddress: "127.0.0.1",
			} {
				if s.Attributes[k] != want {
					t.Errorf("%s = %q, want %q", k, s.Attributes[k], want)
				}
			}
			if s.Attributes[telemetry.AttrSession] == "" || s.Attributes[telemetry.AttrRequestID] == "" {
				t.Errorf("no session or request id: %v", s.Attributes)
			}
			var calls struct {
				Calls []struct {
					TraceID *string `json:"trace_id"`
					SpanID  *string `json:"span_id"`
				} `json:"calls"`
			}
			getJSON(t, base+"/api/calls?method=tools/call", &calls)
			if len(calls.Calls) != 1 || calls.Calls[0].TraceID == nil || *calls.Calls[0].TraceID != tt.traceID ||
				calls.Calls[0].SpanID == nil || *calls.Calls[0].SpanID != s.SpanID {
				t.Errorf("the call log's trace: %+v, want %s/%s", calls.Calls, tt.traceID, s.SpanID)
			}
			// The operation duration histogram, through Jaeger's OTLP
			// metrics receiver into Prometheus text.
			mine, text := awaitMetric(t, j, "mcp_server_operation_duration_seconds_bucket", service, "performance_report")
			if !strings.Contains(strings.Join(mine, "\n"), `le="0.01"`) {
				t.Errorf("no le=0.01 bucket: %s", strings.Join(mine, "\n"))
			}
			if strings.Contains(text, "mcp_session_id") {
				t.Error("a session id became a metric attribute")
			}
		})
	}
}

// awaitMetric waits for family's series of job and tool to reach Jaeger's
// OTLP metrics receiver, and returns them with all the receiver's text.
func awaitMetric(t *testing.T, j *testenv.Jaeger, family, job, tool string) (mine []string, text string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(250 * time.Millisecond) {
		text = fetchText(t, j.Metrics)
		for _, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(l, family+"{") && strings.Contains(l, `job="`+job+`"`) &&
				strings.Contains(l, `gen_ai_tool_name="`+tool+`"`) {
				mine = append(mine, l)
			}
		}
		if len(mine) > 0 {
			return mine, text
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s of %s in Jaeger's metrics:\n%s", family, job, grepLines(text, "mcp_"))
		}
	}
}

func fetchText(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestServeWithDeadCollector: with the collector down, tool calls go on
// as before, and the spans lost are counted.
func TestServeWithDeadCollector(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dead := "http://" + testenv.Addr(testenv.FreePort(t)) // nothing listens
	mcpURL := startServeEnv(t, otelEnv, "--otlp-endpoint", dead, "--interval", "100ms")
	base := strings.TrimSuffix(mcpURL, "/mcp")
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "dead-collector", Version: "1"}, nil).
		Connect(ctx, &mcp.StreamableClientTransport{Endpoint: mcpURL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	for range 20 {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "performance_report", Arguments: map[string]any{}})
		if err != nil || res.IsError {
			t.Fatalf("a call failed with the collector down: %v %+v", err, res)
		}
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		var r struct {
			CustomMetrics struct {
				Counters map[string]float64 `json:"counters"`
			} `json:"custom_metrics"`
		}
		getJSON(t, base+"/api/metrics?format=json", &r)
		if r.CustomMetrics.Counters[telemetry.CounterSpansFailed] >= 20 {
			if r.CustomMetrics.Counters[telemetry.CounterSpansExported] != 0 {
				t.Errorf("spans counted as exported to a dead collector: %v", r.CustomMetrics.Counters)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the lost spans were never counted: %v", r.CustomMetrics.Counters)
		}
	}
}

// checkJoined requires of a trace in Jaeger the proxy's SERVER span, child
// of the caller's span, the proxy's CLIENT span, its child, and the
// upstream's SERVER span, child of that: one trace from the client
// through the tunnel to the server.
func checkJoined(t *testing.T, spans []testenv.JaegerSpan, name, callerSpan string) {
	t.Helper()
	var proxyServer, proxyClient, upstream *testenv.JaegerSpan
	for i := range spans {
		s := &spans[i]
		if s.Name != name {
			continue
		}
		switch {
		case s.Kind == testenv.SpanKindServer && s.ParentSpanID == callerSpan:
			proxyServer = s
		case s.Kind == testenv.SpanKindClient:
			proxyClient = s
		case s.Kind == testenv.SpanKindServer:
			upstream = s
		}
	}
	if proxyServer == nil || proxyClient == nil || upstream == nil {
		t.Fatalf("the trace lacks a span of the chain: %+v", spans)
	}
	if proxyClient.ParentSpanID != proxyServer.SpanID || upstream.ParentSpanID != proxyClient.SpanID {
		t.Errorf("parents: proxy CLIENT's %s (want %s), upstream SERVER's %s (want %s)",
			proxyClient.ParentSpanID, proxyServer.SpanID, upstream.ParentSpanID, proxyClient.SpanID)
	}
	if proxyServer.Service != "pbatunnel-proxy" || upstream.Service != "pbatunnel-upstream" {
		t.Errorf("services %q and %q", proxyServer.Service, upstream.Service)
	}
	for _, s := range []*testenv.JaegerSpan{proxyServer, proxyClient, upstream} {
		if s.Attributes[telemetry.AttrMethod] != "tools/call" || s.Attributes[telemetry.AttrToolName] != "performance_report" {
			t.Errorf("span %s (kind %d) attributes %v", s.Name, s.Kind, s.Attributes)
		}
	}
}

// TestProxyTracesJoinInJaeger: a tools/call with a known traceparent
// through the HTTP proxy to serve, both exporting to Jaeger, is one trace
// there: the proxy's SERVER and CLIENT spans and serve's SERVER span.
func TestProxyTracesJoinInJaeger(t *testing.T) {
	j := testenv.StartJaeger(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	upURL := startServeEnv(t, append(otelEnv, "OTEL_SERVICE_NAME=pbatunnel-upstream"), "--otlp-endpoint", j.OTLPHTTP)
	listen := testenv.Addr(testenv.FreePort(t))
	proxy := binaryCommand(ctx, t, append(otelEnv, "OTEL_SERVICE_NAME=pbatunnel-proxy", "GORACE=atexit_sleep_ms=0"),
		"proxy", "--upstream", upURL, "--listen", listen, "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(),
		"--otlp-endpoint", j.OTLPGRPC, "--otlp-protocol", "grpc")
	startUntil(t, proxy, "proxying MCP over HTTP")
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "joined", Version: "1"}, nil).
		Connect(ctx, &mcp.StreamableClientTransport{Endpoint: "http://" + listen + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	const traceID, callerSpan = "7bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "performance_report", Arguments: map[string]any{},
		Meta: mcp.Meta{"traceparent": "00-" + traceID + "-" + callerSpan + "-01"}}); err != nil {
		t.Fatal(err)
	}
	checkJoined(t, j.Trace(t, traceID, 3, time.Minute), "tools/call performance_report", callerSpan)
	// The proxy's duration metrics, both sides, over gRPC to a real
	// receiver.
	awaitMetric(t, j, "mcp_server_operation_duration_seconds_bucket", "pbatunnel-proxy", "performance_report")
	awaitMetric(t, j, "mcp_client_operation_duration_seconds_bucket", "pbatunnel-proxy", "performance_report")
}

// TestStdioProxyTracesJoinInJaeger: the same through the stdio proxy, in
// front of serve --stdio (a server built on the Go SDK), as an MCP
// client launches them.
func TestStdioProxyTracesJoinInJaeger(t *testing.T) {
	j := testenv.StartJaeger(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	proxy := binaryCommand(ctx, t, append(otelEnv, "OTEL_SERVICE_NAME=pbatunnel-proxy", "GORACE=atexit_sleep_ms=0"),
		"proxy", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--otlp-endpoint", j.OTLPHTTP, "--",
		"env", "OTEL_SERVICE_NAME=pbatunnel-upstream", binary(t), "serve", "--stdio", "--addr", "127.0.0.1:0",
		"--data-dir", t.TempDir(), "--otlp-endpoint", j.OTLPHTTP)
	var logs testenv.Buffer
	proxy.Stderr = &logs
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "joined-stdio", Version: "1"}, nil).
		Connect(ctx, &mcp.CommandTransport{Command: proxy}, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	const traceID, callerSpan = "8bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "performance_report", Arguments: map[string]any{},
		Meta: mcp.Meta{"traceparent": "00-" + traceID + "-" + callerSpan + "-01"}}); err != nil {
		t.Fatal(err)
	}
	spans := j.Trace(t, traceID, 3, time.Minute)
	checkJoined(t, spans, "tools/call performance_report", callerSpan)
	if err := cs.Close(); err != nil {
		t.Errorf("closing: %v\n%s", err, logs.String())
	}
}
