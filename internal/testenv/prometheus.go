package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// PrometheusOptions configure StartPrometheus. The zero value scrapes
// nothing, every second.
type PrometheusOptions struct {
	// Job is the scrape job's name. Default "pbatunnel".
	Job string
	// Targets are the host:port addresses the job scrapes at /metrics.
	Targets []string
	// Interval is the scrape and rule evaluation interval. Default 1 s.
	Interval time.Duration
	// Token, when set, is sent as "Authorization: Bearer <token>" with
	// every scrape, from a credentials file as a deployment would.
	Token string
	// RuleFiles are rule files to load, by absolute path.
	RuleFiles []string
	// SelfJob, when set, names a second job that scrapes Prometheus' own
	// /metrics: a target that is not pbatunnel yet exports up and the
	// process_* and go_* families, as on a Prometheus shared with other
	// services.
	SelfJob string
}

// A Prometheus is a real Prometheus server running for a test.
type Prometheus struct {
	// URL is "http://127.0.0.1:<port>".
	URL    string
	client *http.Client
}

// StartPrometheus runs Prometheus (from PATH, where scripts/test.sh installs
// Debian's prometheus) with the scrape jobs opts say, and waits until it is
// ready. It is stopped when the test ends; its output is logged if the
// test failed.
func StartPrometheus(t testing.TB, opts PrometheusOptions) *Prometheus {
	t.Helper()
	bin := Require(t, "prometheus")
	if opts.Job == "" {
		opts.Job = "pbatunnel"
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if opts.Token != "" {
		if err := os.WriteFile(tokenFile, []byte(opts.Token), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	configFile := filepath.Join(dir, "prometheus.yml")
	srv := StartServer(t, bin, func(addr string) []string {
		// Written here, where Prometheus' own address is known: SelfJob
		// scrapes it.
		if err := os.WriteFile(configFile, []byte(prometheusConfig(opts, tokenFile, addr)), 0o600); err != nil {
			t.Fatal(err)
		}
		return []string{
			"--config.file=" + configFile,
			"--storage.tsdb.path=" + filepath.Join(dir, "data-"+strings.ReplaceAll(addr, ":", "-")),
			"--web.listen-address=" + addr,
		}
	}, "/-/ready", 60*time.Second)
	client := &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	return &Prometheus{URL: srv.URL, client: client}
}

// prometheusConfig writes the configuration StartPrometheus runs with, for
// a Prometheus listening on self.
func prometheusConfig(opts PrometheusOptions, tokenFile, self string) string {
	// Double-quoted YAML scalars take Go's quoting (%q) as it is.
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "global:\n  scrape_interval: %s\n  evaluation_interval: %[1]s\n", promDuration(opts.Interval))
	if len(opts.RuleFiles) > 0 {
		cfg.WriteString("rule_files:\n")
		for _, f := range opts.RuleFiles {
			fmt.Fprintf(&cfg, "  - %q\n", f)
		}
	}
	fmt.Fprintf(&cfg, "scrape_configs:\n  - job_name: %q\n", opts.Job)
	if opts.Token != "" {
		fmt.Fprintf(&cfg, "    authorization:\n      credentials_file: %q\n", tokenFile)
	}
	cfg.WriteString("    static_configs:\n      - targets: [")
	for i, target := range opts.Targets {
		if i > 0 {
			cfg.WriteString(", ")
		}
		fmt.Fprintf(&cfg, "%q", target)
	}
	cfg.WriteString("]\n")
	if opts.SelfJob != "" {
		fmt.Fprintf(&cfg, "  - job_name: %q\n    static_configs:\n      - targets: [%q]\n", opts.SelfJob, self)
	}
	return cfg.String()
}

// promDuration writes d as Prometheus reads durations: whole
// milliseconds, seconds, minutes or hours with their unit.
func promDuration(d time.Duration) string {
	if d%time.Second != 0 {
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

// A PromSample is one series of a query's answer at one instant.
type PromSample struct {
	Labels map[string]string
	Value  float64
}

// Query runs an instant PromQL query through the HTTP API
// (/api/v1/query) and returns its samples: the series of a vector, or one
// sample without labels for a scalar. An error is one of the API's (a
// query that does not parse, or fails), or of the request.
func (p *Prometheus) Query(ctx context.Context, q string) ([]PromSample, error) {
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := p.get(ctx, "/api/v1/query?query="+url.QueryEscape(q), &data); err != nil {
		return nil, err
	}
	switch data.ResultType {
	case "vector":
		var vec []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		if err := json.Unmarshal(data.Result, &vec); err != nil {
			return nil, fmt.Errorf("reading the vector: %w", err)
		}
		out := make([]PromSample, 0, len(vec))
		for _, s := range vec {
			v, err := sampleValue(s.Value)
			if err != nil {
				return nil, err
			}
			out = append(out, PromSample{Labels: s.Metric, Value: v})
		}
		return out, nil
	case "scalar":
		var s [2]any
		if err := json.Unmarshal(data.Result, &s); err != nil {
			return nil, fmt.Errorf("reading the scalar: %w", err)
		}
		v, err := sampleValue(s)
		if err != nil {
			return nil, err
		}
		return []PromSample{{Value: v}}, nil
	default:
		return nil, fmt.Errorf("result type %q, want vector or scalar", data.ResultType)
	}
}

// LabelValues returns the values label takes in the series that match
// the selector (every series when it is empty): what Grafana's
// label_values(selector, label) variable query offers.
func (p *Prometheus) LabelValues(ctx context.Context, label, selector string) ([]string, error) {
	path := "/api/v1/label/" + url.PathEscape(label) + "/values"
	if selector != "" {
		path += "?match[]=" + url.QueryEscape(selector)
	}
	var values []string
	if err := p.get(ctx, path, &values); err != nil {
		return nil, err
	}
	return values, nil
}

// get calls the HTTP API and decodes the data of a successful answer
// into data.
func (p *Prometheus) get(ctx context.Context, path string, data any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+path, nil)
	if err != nil {
		return err
	}
	res, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("calling Prometheus: %w", err)
	}
	defer res.Body.Close()
	var body struct {
		Status    string          `json:"status"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return fmt.Errorf("Prometheus answered %s, not JSON: %w", res.Status, err)
	}
	if body.Status != "success" {
		return fmt.Errorf("Prometheus: %s: %s", body.ErrorType, body.Error)
	}
	if err := json.Unmarshal(body.Data, data); err != nil {
		return fmt.Errorf("reading Prometheus' data: %w", err)
	}
	return nil
}

// sampleValue reads the value of an API sample, [time, "value"]; the value
// may be "NaN", "+Inf" or "-Inf", which ParseFloat reads too.
func sampleValue(s [2]any) (float64, error) {
	str, ok := s[1].(string)
	if !ok {
		return 0, fmt.Errorf("sample value %v is not a string", s[1])
	}
	return strconv.ParseFloat(str, 64)
}
