package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseBench(t *testing.T) {
	out := []byte(`goos: linux
goarch: amd64
pkg: example.com/m/tunnel
cpu: AMD EPYC
BenchmarkStdioRoundTrip/same-process-2         	       1	    271764 ns/op	       146.4 direct-p50-µs	       -21.47 overhead-p50-µs
BenchmarkStdioThroughput/own-process-2        	       1	    152397 ns/op	        80.40 proxy/direct-%
--- BENCH: BenchmarkStdioThroughput/own-process-2
    stdio_timing_test.go:202: a log line
BenchmarkStdioThroughput/own-process-2        	       1	    152000 ns/op	        90 proxy/direct-%
PASS
ok  	example.com/m/tunnel	0.162s
pkg: example.com/m
BenchmarkTop	     100	        12 ns/op	       0 B/op	       0 allocs/op
BenchmarkTop-2 --- FAIL: something
`)
	got, err := parseBench(out, "example.com/m")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string][]float64{
		"tunnel BenchmarkStdioRoundTrip/same-process": {"ns/op": {271764}, "direct-p50-µs": {146.4}, "overhead-p50-µs": {-21.47}},
		"tunnel BenchmarkStdioThroughput/own-process": {"ns/op": {152397, 152000}, "proxy/direct-%": {80.40, 90}},
		". BenchmarkTop": {"ns/op": {12}, "B/op": {0}, "allocs/op": {0}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("parseBench (-want +got):\n%s", d)
	}
	if _, err := parseBench([]byte("PASS\n"), "example.com/m"); err == nil {
		t.Error("parseBench of no results: no error")
	}
}

func TestTrimProcs(t *testing.T) {
	for in, want := range map[string]string{
		"BenchmarkX-2":                "BenchmarkX",
		"BenchmarkX/system=true-16":   "BenchmarkX/system=true",
		"BenchmarkX/same-process":     "BenchmarkX/same-process",
		"BenchmarkX":                  "BenchmarkX",
		"BenchmarkX/entries=10k-2":    "BenchmarkX/entries=10k",
		"BenchmarkX/tag+importance-2": "BenchmarkX/tag+importance",
		"BenchmarkX/ends-in-a-dash-":  "BenchmarkX/ends-in-a-dash-",
	} {
		if got := trimProcs(in); got != want {
			t.Errorf("trimProcs(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMeasureOf(t *testing.T) {
	m, err := measureOf([]float64{30.2, 21.6, 25.6, 28, 22}, "ns/op")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.String(), "25.6 ns/op (21.6 – 30.2, 5 runs)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if m, _ := measureOf([]float64{1, 3}, "ms"); m.median != 2 {
		t.Errorf("median of 1 and 3 = %v, want 2", m.median)
	}
	if _, err := measureOf(nil, "ms"); err == nil {
		t.Error("measureOf(nil): no error")
	}
}

func TestShellJoin(t *testing.T) {
	got := shellJoin("go", "test", "-run", "^$", "-bench", "A|B", "./monitor", "it's")
	want := `go test -run '^$' -bench 'A|B' ./monitor 'it'\''s'`
	if got != want {
		t.Errorf("shellJoin = %s, want %s", got, want)
	}
}

func TestSelectRows(t *testing.T) {
	rs, err := selectRows("1, 3")
	if err != nil || len(rs) != 2 || rs[0].num != 1 || rs[1].num != 3 {
		t.Errorf("selectRows(\"1, 3\") = %v, %v", rs, err)
	}
	for _, bad := range []string{"9", "x", "1,"} {
		if _, err := selectRows(bad); err == nil {
			t.Errorf("selectRows(%q): no error", bad)
		}
	}
}
