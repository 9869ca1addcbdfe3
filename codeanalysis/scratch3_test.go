package codeanalysis

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestScratchPerf(t *testing.T) {
	if os.Getenv("SCRATCH") == "" {
		t.Skip()
	}
	const n = 1 << 20
	rep := func(s string) string { return strings.Repeat(s, n/len(s)) }
	inputs := map[string]string{
		"open parens":   rep("("),
		"open close":    strings.Repeat("(", n/2) + strings.Repeat("]", n/2),
		"slashes":       rep("/\\"),
		"regex class":   rep("(/["),
		"ifs":           rep("if (x) "),
		"assign":        rep("a="),
		"plus assign":   rep("a+="),
		"calls":         rep("eval("),
		"exec":          rep("exec(a+"),
		"arrows":        rep("=>"),
		"arrows2":       rep("x=>"),
		"templates":     rep("`${"),
		"strings":       rep("'"),
		"triple":        rep("'''"),
		"py headers":    rep("if x:\n "),
		"py indent":     func() string { var b strings.Builder; for i := 0; b.Len() < n; i++ { b.WriteString(strings.Repeat(" ", i%2000) + "if x:\n") }; return b.String() }(),
		"for loops":     rep("for (const a of b) {"),
		"py for":        func() string { var b strings.Builder; for i := 0; b.Len() < n; i++ { b.WriteString(strings.Repeat(" ", i%500) + "for a in b:\n") }; return b.String() }(),
		"methods":       rep("a(){"),
		"class":         rep("class "),
		"function":      rep("function "),
		"go nest":       "package p\nfunc F() {" + strings.Repeat("for range x {", 50000) + strings.Repeat("}", 50000) + "}",
		"go binary":     "package p\nvar x = " + strings.Repeat("a + ", n/4) + "a",
		"go range nest": "package p\nfunc F() {" + strings.Repeat("for range x {\n", 5000) + strings.Repeat("}", 5000) + "}",
		"comments":      rep("/*"),
		"newlines":      rep("\n"),
		"words":         rep("abc "),
		"dots":          rep("a."),
		"quest":         rep("?"),
		"secret":        rep("password = 'Xy7kLm9pQ2wZaBcD'\n"),
		"todo":          rep("// TODO "),
	}
	for name, s := range inputs {
		for _, lang := range []string{"go", "py", "js"} {
			start := time.Now()
			switch lang {
			case "go":
				analyzeGo("x.go", []byte(s))
			case "py":
				analyzePython("x.py", []byte(s))
			case "js":
				analyzeJS("x.js", langJavaScript, []byte(s))
			}
			if d := time.Since(start); d > 300*time.Millisecond {
				t.Logf("%s %s: %v", name, lang, d)
			}
		}
	}
}
