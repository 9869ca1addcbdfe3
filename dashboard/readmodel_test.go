package dashboard

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The sampled readers agree: /api/metrics as JSON and as text, /api/tools
// and the stream's sample event show one sample, however many calls are
// recorded between the requests, and all move to the next sample together.
// /metrics, the live reader, counts every call up to the scrape.
func TestSampledReadersAgree(t *testing.T) {
	m, base := startTest(t, Options{}) // enhanced_memory called once
	next := openStream(t, base)
	var event [2]string
	readers := []struct {
		name  string
		calls func(t *testing.T) uint64 // enhanced_memory's call count
		live  bool
	}{
		{"stream", func(t *testing.T) uint64 {
			event = next()
			if event[0] != "sample" {
				t.Fatalf("event %q, want a sample", event[0])
			}
			return reportCalls(t, []byte(event[1]))
		}, false},
		{"/api/metrics", func(t *testing.T) uint64 {
			_, body := get(t, base+"/api/metrics")
			if !strings.Contains(string(body), `"live":false`) {
				t.Errorf("report does not say it is not live: %.200s…", body)
			}
			return reportCalls(t, body)
		}, false},
		{"/api/metrics?format=text", func(t *testing.T) uint64 {
			_, body := get(t, base+"/api/metrics?format=text")
			return textCalls(t, string(body), "enhanced_memory")
		}, false},
		{"/api/tools", func(t *testing.T) uint64 {
			_, body := get(t, base+"/api/tools")
			var tools map[string]struct {
				CallCount uint64 `json:"call_count"`
			}
			if err := json.Unmarshal(body, &tools); err != nil {
				t.Fatal(err)
			}
			return tools["enhanced_memory"].CallCount
		}, false},
		{"/metrics", func(t *testing.T) uint64 {
			_, body := get(t, base+"/metrics")
			return scrapeCalls(t, body, "enhanced_memory")
		}, true},
	}
	sampled, recorded := uint64(1), uint64(1)
	for round := range 2 {
		for _, r := range readers {
			// A call the latest sample has not seen, before every read.
			m.RecordToolUsage("enhanced_memory", time.Millisecond, true)
			recorded++
			want := sampled
			if r.live {
				want = recorded
			}
			if got := r.calls(t); got != want {
				t.Errorf("round %d, %s: enhanced_memory called %d times, want %d", round, r.name, got, want)
			}
		}
		m.Sample(t.Context())
		sampled = recorded
	}
}

func reportCalls(t *testing.T, report []byte) uint64 {
	t.Helper()
	var r struct {
		ToolMetrics map[string]struct {
			CallCount uint64 `json:"call_count"`
		} `json:"tool_metrics"`
	}
	if err := json.Unmarshal(report, &r); err != nil {
		t.Fatal(err)
	}
	return r.ToolMetrics["enhanced_memory"].CallCount
}

// textCalls reads a tool's call count from the text report's tool table.
func textCalls(t *testing.T, text, tool string) uint64 {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == tool {
			n, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				t.Fatalf("tool line %q: %v", line, err)
			}
			return n
		}
	}
	t.Fatalf("no line for %s in\n%s", tool, text)
	return 0
}

// scrapeCalls reads a tool's successful calls from an exposition.
func scrapeCalls(t *testing.T, exposition []byte, tool string) uint64 {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(exposition))
	if err != nil {
		t.Fatal(err)
	}
	for _, mt := range fams["mcp_server_operation_duration_seconds"].GetMetric() {
		labels := map[string]string{}
		for _, l := range mt.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["gen_ai_tool_name"] == tool && labels["error_type"] == "" {
			return mt.GetHistogram().GetSampleCount()
		}
	}
	return 0
}
