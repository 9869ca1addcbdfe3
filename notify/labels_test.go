package notify

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// The expected values were computed with Alertmanager's own code
// (prometheus/common model.LabelSet.Fingerprint), which our fingerprints
// must equal.
func TestFingerprintMatchesAlertmanager(t *testing.T) {
	tests := []struct {
		labels map[string]string
		want   string
	}{
		{map[string]string{}, "cbf29ce484222325"},
		{map[string]string{"a": "1"}, "d3b971819376d835"},
		{map[string]string{
			"alertname": "memory_usage", "metric": "memory.percent", "severity": "critical",
			"instance": "host1", "source": "pbatunnel",
		}, "2613d717785a67d5"},
		{map[string]string{"alertname": "größe", "z": "", "b": "x\xffy"}, "1104dffc4447f6c5"},
	}
	for _, tt := range tests {
		if got := fingerprint(tt.labels); got != tt.want {
			t.Errorf("fingerprint(%v) = %s, want %s", tt.labels, got, tt.want)
		}
	}
}

func TestLabels(t *testing.T) {
	synthetic := firingAlert()
	synthetic.Synthetic = true
	wantSynthetic := wantLabels("warning")
	wantSynthetic["synthetic"] = "true"

	noMetric := firingAlert()
	noMetric.Metric = ""
	wantNoMetric := wantLabels("warning")
	delete(wantNoMetric, "metric")

	badUTF8 := firingAlert()
	badUTF8.Rule = "bad\xffname"
	wantBadUTF8 := wantLabels("warning")
	wantBadUTF8["alertname"] = "bad\uFFFDname"

	resolvedNoPrevious := resolvedAlert()
	resolvedNoPrevious.Previous = ""

	tests := []struct {
		name string
		a    alert.Alert
		want map[string]string
	}{
		{"firing", firingAlert(), wantLabels("warning")},
		{"escalated", escalatedAlert(), wantLabels("critical")},
		{"resolved carries the level it had while firing", resolvedAlert(), wantLabels("critical")},
		{"resolved without a previous level", resolvedNoPrevious, wantLabels("info")},
		{"synthetic", synthetic, wantSynthetic},
		{"empty values left out", noMetric, wantNoMetric},
		{"invalid UTF-8 replaced", badUTF8, wantBadUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Labels(tt.a)); diff != "" {
				t.Errorf("Labels (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAnnotations(t *testing.T) {
	unavailable := firingAlert()
	unavailable.Level = alert.LevelInfo
	unavailable.Value = metric.Unavailable("gauge failed: permission denied")
	unavailable.Advice = ""
	unavailable.Message = ""

	below := firingAlert()
	below.Rule, below.Metric, below.Direction = "cache_hit_rate", "cache.hit_rate_percent", alert.Below
	below.Value, below.Threshold = metric.Measured(0.0042), 50
	below.Advice = ""

	resolvedBelow := resolvedAlert()
	resolvedBelow.Direction = alert.Below
	resolvedBelow.Value, resolvedBelow.Threshold = metric.Measured(55), 52.5
	resolvedBelow.Advice = ""

	tests := []struct {
		name string
		a    alert.Alert
		want map[string]string
	}{
		{"firing", firingAlert(), map[string]string{
			"summary":     "memory usage 83.46% is above the warning threshold 80%",
			"description": "value 83.46 is above the warning threshold 80; transition: firing",
			"advice":      "look at the largest caches first",
		}},
		{"escalated", escalatedAlert(), map[string]string{
			"summary":     "memory usage 93.20% is above the critical threshold 90%",
			"description": "value 93.2 is above the critical threshold 90; transition: escalated from warning",
			"advice":      "look at the largest caches first",
		}},
		{"resolved", resolvedAlert(), map[string]string{
			"summary":     "memory usage 70.00% is back below 76%",
			"description": "value 70 is back below the clear level 76; transition: resolved from critical",
			"advice":      "look at the largest caches first",
		}},
		{"resolved below", resolvedBelow, map[string]string{
			"summary":     "memory usage 70.00% is back below 76%",
			"description": "value 55 is back above the clear level 52.5; transition: resolved from critical",
		}},
		{"below", below, map[string]string{
			"summary":     "memory usage 83.46% is above the warning threshold 80%",
			"description": "value 0.0042 is below the warning threshold 50; transition: firing",
		}},
		{"unavailable, no message", unavailable, map[string]string{
			"summary":     "memory_usage firing on system.memory_percent",
			"description": "value unavailable (gauge failed: permission denied); threshold 80, alerting above it; transition: firing",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Annotations(tt.a)); diff != "" {
				t.Errorf("Annotations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFormatNumber(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{0, "0"}, {90, "90"}, {93.2, "93.2"}, {83.456, "83.46"}, {-12.5, "-12.5"},
		{0.0042, "0.0042"}, {0.123456, "0.123"}, {1e6, "1000000"},
	}
	for _, tt := range tests {
		if got := formatNumber(tt.v); got != tt.want {
			t.Errorf("formatNumber(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestNotices(t *testing.T) {
	now := t0.Add(time.Hour)
	type want struct {
		severity         string
		startsAt, endsAt time.Time // endsAt zero: firing
	}
	noTimes := firingAlert()
	noTimes.StartsAt, noTimes.At = time.Time{}, time.Time{}

	resolvedNoEnd := resolvedAlert()
	resolvedNoEnd.EndsAt = time.Time{}

	endBeforeStart := resolvedAlert()
	endBeforeStart.EndsAt = t0.Add(-time.Second)

	local := firingAlert()
	local.StartsAt = t0.In(time.FixedZone("CET", 3600))

	tests := []struct {
		name string
		a    alert.Alert
		want []want
	}{
		{"firing", firingAlert(), []want{{"warning", t0, time.Time{}}}},
		{"escalation resolves the warning and fires the critical", escalatedAlert(), []want{
			{"warning", t0, t0.Add(time.Minute)},
			{"critical", t0, time.Time{}},
		}},
		{"resolved", resolvedAlert(), []want{{"critical", t0, t0.Add(5 * time.Minute)}}},
		{"resolved without EndsAt ends at At", resolvedNoEnd, []want{{"critical", t0, t0.Add(5 * time.Minute)}}},
		{"an end before the start is moved to the start", endBeforeStart, []want{{"critical", t0, t0}}},
		{"no times: now", noTimes, []want{{"warning", now, time.Time{}}}},
		{"times in UTC", local, []want{{"warning", t0, time.Time{}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := notices(tt.a, now)
			var got []want
			for _, n := range ns {
				got = append(got, want{n.labels["severity"], n.startsAt, n.endsAt})
				if n.fingerprint != fingerprint(n.labels) {
					t.Errorf("fingerprint %s does not match labels %v", n.fingerprint, n.labels)
				}
				if n.startsAt.Location() != time.UTC {
					t.Errorf("startsAt %v not in UTC", n.startsAt)
				}
				if diff := cmp.Diff(Annotations(tt.a), n.annotations); diff != "" {
					t.Errorf("annotations (-want +got):\n%s", diff)
				}
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("notices (-want +got):\n%s", diff)
			}
		})
	}
}
