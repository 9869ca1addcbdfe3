package testenv

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/telemetry"
)

// Telemetry is OpenTelemetry export as a user turns it on, for benchmarks:
// OTLP over HTTP, every request sampled, batches every 200 ms, to a
// collector that takes everything (dead false) or to an address where
// nothing listens (dead true). It is shut down when the test ends.
func Telemetry(tb testing.TB, dead bool) *telemetry.Telemetry {
	tb.Helper()
	endpoint := "http://" + Addr(FreePort(tb))
	if !dead {
		sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
		}))
		tb.Cleanup(sink.Close)
		endpoint = sink.URL
	}
	tel, err := TelemetryTo(endpoint)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = tel.Shutdown(ctx)
	})
	return tel
}

// TelemetryTo is the export of Telemetry to the collector at endpoint, for
// a benchmark's process of its own; the caller shuts it down.
func TelemetryTo(endpoint string) (*telemetry.Telemetry, error) {
	return telemetry.New(context.Background(), telemetry.Options{Endpoint: endpoint, Getenv: func(k string) string {
		if k == "OTEL_BSP_SCHEDULE_DELAY" {
			return "200"
		}
		return ""
	}})
}
