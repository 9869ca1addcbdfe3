package promrules

import (
	"testing"
	"time"
)

func TestPromDuration(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{30 * 24 * time.Hour, "30d"}, {72 * time.Hour, "3d"}, {6 * time.Hour, "6h"}, {90 * time.Minute, "90m"},
		{time.Minute, "1m"}, {90 * time.Second, "90s"}, {250 * time.Millisecond, "250ms"}, {1500 * time.Millisecond, "1500ms"},
	} {
		if got := promDuration(tt.d); got != tt.want {
			t.Errorf("promDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestNumber(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		want string
	}{
		{1 - 0.99, "0.01"}, {14.4, "14.4"}, {80 * 0.95, "76"}, {2000, "2000"}, {1e7, "10000000"}, {0.0005, "0.0005"}, {-3, "-3"},
	} {
		if got := number(tt.v); got != tt.want {
			t.Errorf("number(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

// TestLeMatcher matches a bucket bound however Prometheus 2 (as the client
// wrote it: "1") or 3 (normalised: "1.0") stores it.
func TestLeMatcher(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{500 * time.Millisecond, `le="0.5"`},
		{2500 * time.Microsecond, `le="0.0025"`},
		{time.Second, `le=~"1|1\\.0"`},
		{300 * time.Second, `le=~"300|300\\.0"`},
	} {
		if got := leMatcher(tt.d); got != tt.want {
			t.Errorf("leMatcher(%v) = %s, want %s", tt.d, got, tt.want)
		}
	}
}

func TestGlobMatcher(t *testing.T) {
	for _, tt := range []struct{ glob, want string }{
		{"enhanced_memory", `gen_ai_tool_name="enhanced_memory"`},
		{"*", `gen_ai_tool_name=~".*"`},
		{"code_*", `gen_ai_tool_name=~"code_.*"`},
		{"a.b*", `gen_ai_tool_name=~"a\\.b.*"`},
		{`quote"d`, `gen_ai_tool_name="quote\"d"`},
	} {
		if got := globMatcher(toolLabel, tt.glob); got != tt.want {
			t.Errorf("globMatcher(%q) = %s, want %s", tt.glob, got, tt.want)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tt := range []struct {
		pattern, s string
		want       bool
	}{
		{"tools/call", "tools/call", true}, {"tools/*", "tools/call", true}, {"*", "initialize", true},
		{"tools/*", "resources/read", false}, {"*/call", "tools/call", true}, {"t*s*l", "tools/call", true},
		{"t*x*l", "tools/call", false}, {"ab*ba", "aba", false},
	} {
		if got := globMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{50 * time.Hour, "2d 2h"}, {120 * time.Hour, "5d"}, {5 * time.Hour, "5h"}, {90 * time.Minute, "1h 30m"},
		{50 * time.Minute, "50m"}, {47*time.Hour + 50*time.Minute, "2d"},
	} {
		if got := humanDuration(tt.d); got != tt.want {
			t.Errorf("humanDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestAlertName(t *testing.T) {
	for _, tt := range []struct{ rule, want string }{
		{"memory_usage", "PbatunnelMemoryUsage"},
		{"tool.*.error_rate_percent", "PbatunnelToolErrorRatePercent"},
		{"slow-memory tool", "PbatunnelSlowMemoryTool"},
		{"p95_ms", "PbatunnelP95Ms"},
		{"émoji_rule", "PbatunnelMojiRule"},
	} {
		if got := AlertName(tt.rule); got != tt.want {
			t.Errorf("AlertName(%q) = %q, want %q", tt.rule, got, tt.want)
		}
	}
}

func TestParen(t *testing.T) {
	for _, tt := range []struct{ expr, want string }{
		{"instance:x:rate1m", "instance:x:rate1m"},
		{`x{a="b", c=~"d"}`, `x{a="b", c=~"d"}`},
		{"60 * x", "(60 * x)"},
		{"max by (job) (x)", "(max by (job) (x))"},
		{"12", "12"},
	} {
		if got := paren(tt.expr); got != tt.want {
			t.Errorf("paren(%q) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}
