package testenv

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPromDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Second:             "1s",
		15 * time.Second:        "15s",
		2 * time.Minute:         "120s",
		500 * time.Millisecond:  "500ms",
		1500 * time.Millisecond: "1500ms",
	} {
		if got := promDuration(d); got != want {
			t.Errorf("promDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestStartPrometheus has the helper's Prometheus scrape a target that
// wants a bearer token, and itself, and reads the scraped series back
// through Query and LabelValues; a query that does not parse is
// Prometheus' error.
func TestStartPrometheus(t *testing.T) {
	Require(t, "prometheus")
	const token = "scrape-secret"
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte("# TYPE answer gauge\nanswer{kind=\"life\"} 42\n"))
	}))
	defer target.Close()
	prom := StartPrometheus(t, PrometheusOptions{Job: "helper", Targets: []string{strings.TrimPrefix(target.URL, "http://")}, Token: token, SelfJob: "self"})

	var got []PromSample
	for deadline := time.Now().Add(30 * time.Second); len(got) == 0; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Prometheus never scraped the target")
		}
		var err error
		if got, err = prom.Query(t.Context(), `answer{job="helper"}`); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 1 || got[0].Value != 42 || got[0].Labels["kind"] != "life" {
		t.Errorf("answer = %+v, want one series of 42 with kind=life", got)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		up, err := prom.Query(t.Context(), `up{job="self"}`)
		if err != nil {
			t.Fatal(err)
		}
		if len(up) == 1 && up[0].Value == 1 && up[0].Labels["instance"] == strings.TrimPrefix(prom.URL, "http://") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("up{job=\"self\"} = %+v, want Prometheus itself, up", up)
		}
	}
	if got, err := prom.Query(t.Context(), `scalar(answer) / 0`); err != nil || len(got) != 1 || got[0].Value <= 0 {
		t.Errorf("a scalar query = %+v, %v; want +Inf", got, err)
	}
	if vals, err := prom.LabelValues(t.Context(), "kind", `answer{job="helper"}`); err != nil || !slices.Equal(vals, []string{"life"}) {
		t.Errorf("LabelValues(kind) = %q, %v", vals, err)
	}
	if _, err := prom.Query(t.Context(), `sum(answer`); err == nil || !strings.Contains(err.Error(), "parse error") {
		t.Errorf("an unclosed parenthesis: %v, want a parse error", err)
	}
}
