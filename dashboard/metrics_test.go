package dashboard

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// TestPrometheusExposition parses /metrics with Prometheus' own parser and
// checks the MCP histogram against what was recorded.
func TestPrometheusExposition(t *testing.T) {
	m, base := startTest(t, Options{})
	m.RecordToolCall("code_analysis", 3*time.Second, "tool_error")
	m.RecordToolCall("enhanced_memory", 5*time.Millisecond, "")
	m.RecordToolCall("read_graph", 3*time.Millisecond, "")
	m.RecordToolCall("read_graph", 10*time.Millisecond, "") // exactly on a bound: le is "at or below"
	m.RecordCacheLookup(true)
	m.Sample(context.Background())

	res, body := get(t, base+"/metrics")
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("Prometheus cannot parse /metrics: %v", err)
	}
	h := fams["mcp_server_operation_duration_seconds"]
	if h == nil || h.GetType() != dto.MetricType_HISTOGRAM {
		t.Fatalf("no histogram family: %v", h)
	}
	// The bounds as written, exactly: the OpenTelemetry MCP boundaries and
	// finer ones below 10 ms.
	wantLE := []string{"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.02", "0.05", "0.1", "0.2", "0.5",
		"1", "2", "5", "10", "30", "60", "120", "300", "+Inf"}
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, "mcp_server_operation_duration_seconds_bucket{") || !strings.Contains(line, `gen_ai_tool_name="read_graph"`) {
			continue
		}
		le := line[strings.Index(line, `le="`)+4:]
		le = le[:strings.IndexByte(le, '"')]
		if len(wantLE) == 0 || le != wantLE[0] {
			t.Fatalf("bucket line %q, want le=%q next", line, wantLE)
		}
		wantLE = wantLE[1:]
	}
	if len(wantLE) != 0 {
		t.Errorf("buckets missing: %v", wantLE)
	}

	type key struct{ tool, errType string }
	got := map[key]*dto.Histogram{}
	for _, mt := range h.GetMetric() {
		var k key
		method := ""
		for _, l := range mt.GetLabel() {
			switch l.GetName() {
			case "gen_ai_tool_name":
				k.tool = l.GetValue()
			case "error_type":
				k.errType = l.GetValue()
			case "mcp_method_name":
				method = l.GetValue()
			}
		}
		if method != "tools/call" {
			t.Errorf("mcp_method_name %q", method)
		}
		got[k] = mt.GetHistogram()
	}
	// From startTest: enhanced_memory 23 ms ok, code_analysis 150 ms failed
	// (default error type); here the rest. cum gives the cumulative count
	// wanted at each bound named.
	tests := []struct {
		k     key
		count uint64
		sum   float64
		cum   map[float64]uint64
	}{
		{key{"enhanced_memory", ""}, 2, 0.028, map[float64]uint64{0.0025: 0, 0.005: 1, 0.01: 1, 0.02: 1, 0.05: 2}},
		{key{"code_analysis", monitor.ErrorTypeDefault}, 1, 0.150, map[float64]uint64{0.1: 0, 0.2: 1}},
		{key{"code_analysis", "tool_error"}, 1, 3, map[float64]uint64{2: 0, 5: 1}},
		// 3 ms is above le="0.0025" and at or below le="0.005".
		{key{"read_graph", ""}, 2, 0.013, map[float64]uint64{0.001: 0, 0.0025: 0, 0.005: 1, 0.01: 2, 0.02: 2}},
	}
	for _, tt := range tests {
		hist := got[tt.k]
		if hist == nil {
			t.Errorf("no series for %+v", tt.k)
			continue
		}
		if hist.GetSampleCount() != tt.count || abs(hist.GetSampleSum()-tt.sum) > 1e-9 {
			t.Errorf("%+v: count %d sum %v, want %d %v", tt.k, hist.GetSampleCount(), hist.GetSampleSum(), tt.count, tt.sum)
		}
		seen := 0
		for _, b := range hist.GetBucket() {
			if want, ok := tt.cum[b.GetUpperBound()]; ok {
				seen++
				if b.GetCumulativeCount() != want {
					t.Errorf("%+v: le=%v holds %d, want %d", tt.k, b.GetUpperBound(), b.GetCumulativeCount(), want)
				}
			}
		}
		if seen != len(tt.cum) {
			t.Errorf("%+v: %d of the bounds %v found", tt.k, seen, tt.cum)
		}
	}
	for _, name := range []string{"pbatunnel_cache_lookups_total", "pbatunnel_monitor_cpu_seconds_total", "pbatunnel_monitor_samples_total", "go_goroutines"} {
		if fams[name] == nil {
			t.Errorf("no %s", name)
		}
	}
	// System collection is off in this test: its figures are absent, not 0.
	for name := range fams {
		if strings.HasPrefix(name, "pbatunnel_host_") || strings.HasPrefix(name, "pbatunnel_container_") || name == "pbatunnel_memory_usage_percent" {
			t.Errorf("unavailable system figure exported: %s", name)
		}
	}
}

// /metrics is live: every counter the monitor keeps counts up to the
// scrape, not to the latest sample, as Prometheus expects of a counter;
// the samples taken are those of the latest sample.
func TestPrometheusIsLive(t *testing.T) {
	m, base := startTest(t, Options{}) // two samples
	m.RecordCacheLookup(true)
	m.ObserveQuery(2*time.Millisecond, nil)
	m.ObserveQuery(time.Millisecond, errors.New("locked"))
	m.Counter("jobs").Add(3)
	m.Gauge("queue").Set(7)

	_, body := get(t, base+"/metrics")
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		family, label, value string // the series, by one label
		want                 float64
	}{
		{"pbatunnel_cache_lookups_total", "result", "hit", 1},
		{"pbatunnel_store_queries_total", "result", "ok", 1},
		{"pbatunnel_store_queries_total", "result", "error", 1},
		{"pbatunnel_store_query_duration_seconds_total", "", "", 0.003},
		{"pbatunnel_custom_counter_total", "name", "jobs", 3},
		{"pbatunnel_custom_gauge", "name", "queue", 7},
		{"pbatunnel_monitor_samples_total", "", "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.family+"/"+tt.value, func(t *testing.T) {
			for _, mt := range fams[tt.family].GetMetric() {
				if tt.label != "" && !slices.ContainsFunc(mt.GetLabel(), func(l *dto.LabelPair) bool {
					return l.GetName() == tt.label && l.GetValue() == tt.value
				}) {
					continue
				}
				got := mt.GetCounter().GetValue() + mt.GetGauge().GetValue()
				if abs(got-tt.want) > 1e-9 {
					t.Errorf("%v, want %v", got, tt.want)
				}
				return
			}
			t.Errorf("no series %s{%s=%q} in the scrape", tt.family, tt.label, tt.value)
		})
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestPrometheusHostCounters scrapes a monitor that collects host figures
// twice: every _total family is a counter and no counter goes down between
// the scrapes; what the host counts cumulatively is exported as such, in
// families with their units in their names, and nothing client_golang's
// process collector already exports is repeated.
func TestPrometheusHostCounters(t *testing.T) {
	m := monitor.New(monitor.Options{})
	h, err := prometheusHandler(context.Background(), m, nil)
	if err != nil {
		t.Fatal(err)
	}
	scrape := func() map[string]*dto.MetricFamily {
		t.Helper()
		m.RecordToolUsage("enhanced_memory", time.Millisecond, true)
		m.Sample(t.Context())
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(w.Body)
		if err != nil {
			t.Fatalf("Prometheus cannot parse /metrics: %v", err)
		}
		return fams
	}
	first := scrape()
	// Work for the CPU and the disk to count between the scrapes.
	f, err := os.CreateTemp(t.TempDir(), "io")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	second := scrape()

	seriesKey := func(mt *dto.Metric) string {
		var b strings.Builder
		for _, l := range mt.GetLabel() {
			b.WriteString(l.GetName() + "=" + l.GetValue() + ",")
		}
		return b.String()
	}
	counters := 0
	for name, fam := range second {
		isCounter := fam.GetType() == dto.MetricType_COUNTER
		if strings.HasSuffix(name, "_total") != isCounter {
			t.Errorf("%s is a %v", name, fam.GetType())
		}
		if strings.Contains(name, "per_second") {
			t.Errorf("%s: a precomputed rate", name)
		}
		if !isCounter || first[name] == nil {
			continue
		}
		before := map[string]float64{}
		for _, mt := range first[name].GetMetric() {
			before[seriesKey(mt)] = mt.GetCounter().GetValue()
		}
		for _, mt := range fam.GetMetric() {
			if v, ok := before[seriesKey(mt)]; ok {
				counters++
				if mt.GetCounter().GetValue() < v {
					t.Errorf("%s{%s} went down: %v then %v", name, seriesKey(mt), v, mt.GetCounter().GetValue())
				}
			}
		}
	}
	t.Logf("%d counter series compared", counters)

	for _, gone := range []string{"pbatunnel_system", "pbatunnel_process_cpu_seconds_total"} {
		if second[gone] != nil {
			t.Errorf("%s exported", gone)
		}
	}
	if runtime.GOOS != "linux" {
		return
	}
	// Where /proc is, the host's CPU seconds and this process's (from
	// client_golang) are there.
	for _, name := range []string{"pbatunnel_host_cpu_seconds_total", "process_cpu_seconds_total", "pbatunnel_host_memory_usage_percent"} {
		if second[name] == nil {
			t.Errorf("no %s", name)
		}
	}
	modes := map[string]bool{}
	if fam := second["pbatunnel_host_cpu_seconds_total"]; fam != nil {
		for _, mt := range fam.GetMetric() {
			for _, l := range mt.GetLabel() {
				modes[l.GetValue()] = true
			}
		}
	}
	for _, mode := range []string{"user", "system", "idle", "iowait"} {
		if !modes[mode] {
			t.Errorf("no CPU mode %q in %v", mode, modes)
		}
	}
}
