package codeanalysis

import (
	"strings"
	"testing"
	"time"
)

// Inputs that once made the analysis quadratic. Each is timed at two sizes,
// eight times apart: linear work takes about eight times longer (a little
// more for deep nesting, whose stacks the garbage collector scans), quadratic
// sixty-four. The best of three runs keeps scheduling noise out.
func TestPathologicalInputsStayLinear(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("timing test: not with -short or -race")
	}
	type gen func(n int) string
	rep := func(s string) gen { return func(n int) string { return strings.Repeat(s, n/len(s)) } }
	cases := []struct {
		name    string
		lang    string
		make    gen
		minSize int
	}{
		{"markers on one comment line", langJavaScript, rep("// TODO "), 16 << 10},
		{"findings on one long line", langPython, rep("eval(a+"), 16 << 10},
		{"stray closers", langJavaScript, func(n int) string { return strings.Repeat("(", n/2) + strings.Repeat("]", n/2) }, 16 << 10},
		{"unterminated regexps", langJavaScript, rep("(/["), 16 << 10},
		{"nested loops that append", langGo, func(n int) string {
			d := n / 30
			return "package p\nfunc F() {\nvar a []int\n" + strings.Repeat("for range x {a = append(a, 1)\n", d) + strings.Repeat("}", d) + "}"
		}, 32 << 10},
	}
	run := func(lang, src string) time.Duration {
		best := time.Duration(1 << 62)
		for range 3 {
			start := time.Now()
			switch lang {
			case langGo:
				analyzeGo("f.go", []byte(src))
			case langPython:
				analyzePython("f.py", []byte(src))
			default:
				analyzeJS("f.js", lang, []byte(src))
			}
			best = min(best, time.Since(start))
		}
		return best
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			small := run(c.lang, c.make(c.minSize))
			large := run(c.lang, c.make(8*c.minSize))
			if small < time.Millisecond {
				small = time.Millisecond // too fast to compare: only a gross slowdown fails
			}
			if ratio := float64(large) / float64(small); ratio > 24 {
				t.Errorf("8× the input took %.1f× the time (%v → %v): superlinear", ratio, small, large)
			}
			t.Logf("8× the input took %.1f× the time (%v → %v)", float64(large)/float64(small), small, large)
		})
	}
}

func TestSnippetWindow(t *testing.T) {
	line := strings.Repeat("a = 1; ", 1000) + "eval(x); " + strings.Repeat("b = 2; ", 100)
	res := analyzeOne(t, "min.js", line, TypeSecurity)
	f := only(res, "js-eval")
	if len(f) != 1 {
		t.Fatalf("findings:%s", dump(res.Findings))
	}
	s := f[0].Snippet
	if !strings.HasPrefix(s, "…") || !strings.Contains(s, "eval(x)") || !strings.HasSuffix(s, "…") || len([]rune(s)) > snippetMax+2 {
		t.Errorf("snippet of a long line = %q", s)
	}
	if got := snippet("  short line  ", 3); got != "short line" {
		t.Errorf("snippet = %q", got)
	}
}

// Closures nested thousands deep keep short names: the names of the
// runtime's scheme (Outer.func1.1.1…) would grow with the depth, and their
// total size with its square.
func TestDeepClosureNames(t *testing.T) {
	const depth = 3000
	code := "package p\nfunc Outer() {" + strings.Repeat("func() {", depth) + strings.Repeat("}()", depth) + "}"
	rep := analyzeGo("f.go", []byte(code))
	if len(rep.funcs) != depth+1 {
		t.Fatalf("%d functions, want %d", len(rep.funcs), depth+1)
	}
	names := map[string]bool{}
	for _, f := range rep.funcs {
		if len(f.Name) > 120 || !strings.HasPrefix(f.Name, "Outer") {
			t.Fatalf("name %q", f.Name)
		}
		names[f.Name] = true
	}
	for _, n := range []string{"Outer", "Outer.func1", "Outer.func1.1", "Outer.func1.1.1"} {
		if !names[n] {
			t.Errorf("shallow names follow the runtime: no %q", n)
		}
	}
}
