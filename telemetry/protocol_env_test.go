package telemetry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestEnvJSONIsRefused: OTEL_EXPORTER_OTLP_PROTOCOL=http/json, refused
// with a warning for http/protobuf, is what the collector gets too: the
// SDK's OTLP clients, which read the variable themselves, must not send
// JSON when the program said it would not.
func TestEnvJSONIsRefused(t *testing.T) {
	for _, k := range []string{"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"} {
		t.Run(k, func(t *testing.T) {
			t.Setenv(k, "http/json")
			var mu sync.Mutex
			types := map[string]string{}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				types[r.URL.Path] = r.Header.Get("Content-Type")
				mu.Unlock()
			}))
			defer srv.Close()
			var warned []string
			tel, err := New(context.Background(), Options{Endpoint: srv.URL, Warn: func(m string) { warned = append(warned, m) }})
			if err != nil {
				t.Fatal(err)
			}
			_, op := tel.Start(context.Background(), Request{Kind: Server, Method: "ping", Start: time.Now()})
			op.End(context.Background(), Outcome{End: time.Now()})
			if err := tel.ForceFlush(context.Background()); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := tel.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			if len(warned) == 0 {
				t.Errorf("%s=http/json: no warning", k)
			}
			mu.Lock()
			defer mu.Unlock()
			for path, ct := range types {
				if ct != "application/x-protobuf" {
					t.Errorf("%s=http/json, warned of (%q): %s sent as %q", k, warned, path, ct)
				}
			}
			if len(types) == 0 {
				t.Error("nothing sent")
			}
		})
	}
}
