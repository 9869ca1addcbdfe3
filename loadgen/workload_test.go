package loadgen

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestNewToolWorkloadErrors(t *testing.T) {
	for _, tc := range []struct{ tool, args, want string }{
		{"", "{}", "empty tool"},
		{"t", "{", "arguments"},
		{"t", "[1]", "JSON object"},
		{"t", "{} {}", "more than one"},
		{"t", `{"a":"{{nope}}"}`, "unknown placeholder {{nope}}"},
		{"t", `{"a":"{{words:0}}"}`, "words:K"},
		{"t", `{"a":"{{words:x}}"}`, "words:K"},
		{"t", `{"a":["{{n"]}`, "unclosed"},
	} {
		_, err := NewToolWorkload(tc.tool, tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewToolWorkload(%q, %q) = %v, want an error with %q", tc.tool, tc.args, err, tc.want)
		}
	}
}

func TestBuiltins(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name string
		ops  map[string]bool
	}{
		{"memory-store", map[string]bool{"store": true}},
		{"memory-search", map[string]bool{"search": true}},
		{"memory-mixed", map[string]bool{"store": true, "search": true, "retrieve": true}},
	} {
		w, err := Builtin(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for n := range int64(1000) {
			c := w.Next(Vars{N: n + 1, Rand: r})
			op, _ := c.Args["operation"].(string)
			if c.Tool != memoryTool || !tc.ops[op] {
				t.Fatalf("%s: call %+v", tc.name, c)
			}
			seen[op]++
			if op == "search" && len(strings.Fields(c.Args["query"].(string))) != 2 {
				t.Errorf("%s: query %q, want 2 words", tc.name, c.Args["query"])
			}
		}
		if len(seen) != len(tc.ops) {
			t.Errorf("%s: operations %v, want all of %v", tc.name, seen, tc.ops)
		}
		if tc.name == "memory-mixed" && (seen["search"] < 600 || seen["search"] > 800) {
			t.Errorf("memory-mixed: %d searches of 1000, want about 700", seen["search"])
		}
	}
	if _, err := Builtin("nope"); err == nil || !strings.Contains(err.Error(), "memory-mixed") {
		t.Errorf("Builtin(nope) = %v, want an error listing the workloads", err)
	}
}

func TestPercentile(t *testing.T) {
	lat := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tc := range []struct {
		p    float64
		want int
	}{{50, 5}, {90, 9}, {99, 10}, {100, 10}, {1, 1}} {
		sorted := make([]time.Duration, len(lat))
		for i, v := range lat {
			sorted[i] = time.Duration(v)
		}
		if got := percentile(sorted, tc.p); got != time.Duration(tc.want) {
			t.Errorf("percentile(1..10, %v) = %v, want %v", tc.p, got, tc.want)
		}
	}
	if percentile(nil, 50) != 0 {
		t.Error("percentile of nothing is not 0")
	}
}
