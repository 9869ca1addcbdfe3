package codeanalysis

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// kinds renders tokens compactly: s:contents for strings (s$ when
// interpolated), r:text for regexps, the text otherwise.
func kinds(toks []lexToken) []string {
	var out []string
	for _, t := range toks {
		switch t.kind {
		case tokString:
			p := "s:"
			if t.interp {
				p = "s$:"
			}
			out = append(out, p+t.str)
		case tokRegexp:
			out = append(out, "r:"+t.text)
		default:
			out = append(out, t.text)
		}
	}
	return out
}

func TestLexPython(t *testing.T) {
	cases := []struct {
		src  string
		want []string
	}{
		{`x = 'a"b' + "c'd"  # if`, []string{"x", "=", `s:a"b`, "+", `s:c'd`}},
		{"s = '''if\nfor''' + r'\\d' + b\"x\"", []string{"s", "=", "s:if\nfor", "+", `s:\d`, "+", "s:x"}},
		{`f"{x}" + f"{{x}}" + rb'\x'`, []string{"s$:{x}", "+", "s:{{x}}", "+", `s:\x`}},
		{"x = 'unterminated\ny = 2", []string{"x", "=", "s:unterminated", "y", "=", "2"}},
		{"a //= 2 ** 3 -> b := c", []string{"a", "//=", "2", "**", "3", "->", "b", ":=", "c"}},
		{"naïve_名 = 1", []string{"naïve_名", "=", "1"}},
	}
	for _, c := range cases {
		if diff := cmp.Diff(c.want, kinds(lex(c.src, true).toks)); diff != "" {
			t.Errorf("lex(%q) (-want +got):\n%s", c.src, diff)
		}
	}
	lf := lex("def f(\n    a,\n    b):\n    return a \\\n        + b\n# c\nx = 1\n", true)
	var bol []string
	for _, tk := range lf.toks {
		if tk.bol {
			bol = append(bol, tk.text)
		}
	}
	if diff := cmp.Diff([]string{"def", "return", "x"}, bol); diff != "" {
		t.Errorf("logical line starts (-want +got):\n%s", diff)
	}
	if len(lf.comments) != 1 || lf.comments[0].line != 6 {
		t.Errorf("comments = %+v", lf.comments)
	}
}

func TestLexJS(t *testing.T) {
	cases := []struct {
		src  string
		want []string
	}{
		{"a = b / c / d", []string{"a", "=", "b", "/", "c", "/", "d"}},
		{"x = /a[/]b/gi.test(s)", []string{"x", "=", "r:/a[/]b/gi", ".", "test", "(", "s", ")"}},
		{"return /x/", []string{"return", "r:/x/"}},
		{"(a) / 2 / (b)", []string{"(", "a", ")", "/", "2", "/", "(", "b", ")"}},
		{"`a ${ `b ${c} }` } d` + 'e'", []string{"s$:a ${ `b ${c} }` } d", "+", "s:e"}},
		{"`${ '}' + \"`\" }` // c", []string{"s$:${ '}' + \"`\" }"}},
		{"a?.b ?? c ? .5 : d", []string{"a", "?.", "b", "??", "c", "?", ".5", ":", "d"}},
		{"x?.5:1", []string{"x", "?", ".5", ":", "1"}},
		{"#!/usr/bin/env node\nthis.#priv = $el", []string{"this", ".", "#priv", "=", "$el"}},
		{"a /* if */ b // for\nc", []string{"a", "b", "c"}},
		{"x = 1 / 2 // half /", []string{"x", "=", "1", "/", "2"}},
		{"a >>>= b === c !== d", []string{"a", ">>>=", "b", "===", "c", "!==", "d"}},
		{"let s = 'it\\'s' + \"q\"", []string{"let", "s", "=", "s:it\\'s", "+", "s:q"}},
	}
	for _, c := range cases {
		if diff := cmp.Diff(c.want, kinds(lex(c.src, false).toks)); diff != "" {
			t.Errorf("lex(%q) (-want +got):\n%s", c.src, diff)
		}
	}
}

func TestPairBrackets(t *testing.T) {
	lf := lex("f(a[1], {b: (c)}) ) ( [", false)
	// f ( a [ 1 ] , { b : ( c ) } ) ) ( [
	// 0 1 2 3 4 5 6 7 8 9 ...          17
	texts := kinds(lf.toks)
	if texts[1] != "(" || lf.match[1] != 14 || lf.match[14] != 1 {
		t.Errorf("outer call: %v match %v", texts, lf.match)
	}
	if lf.match[3] != 5 || lf.match[7] != 13 || lf.match[10] != 12 {
		t.Errorf("inner pairs: match %v", lf.match)
	}
	if lf.match[15] != -1 {
		t.Errorf("a stray closer matches nothing: %v", lf.match)
	}
	n := len(lf.toks)
	if lf.match[16] != n-1 || lf.match[17] != n-1 {
		t.Errorf("unclosed openers extend to the end: %v", lf.match)
	}
	if lf.parent[4] != 3 || lf.parent[2] != 1 || lf.parent[0] != -1 {
		t.Errorf("parents: %v", lf.parent)
	}
}

// checkLexed asserts the scanner's invariants: tokens in order, not
// overlapping, each the source text at its offset, brackets paired both ways.
func checkLexed(t *testing.T, src string, lf *lexFile) {
	t.Helper()
	prevEnd := 0
	for i, tk := range lf.toks {
		if tk.off < prevEnd || tk.off+len(tk.text) > len(src) || src[tk.off:tk.off+len(tk.text)] != tk.text {
			t.Fatalf("token %d %+v is not the source at its offset", i, tk)
		}
		if tk.text == "" || tk.line < 1 || tk.col < 1 || tk.endLine < tk.line {
			t.Fatalf("token %d has a bad position: %+v", i, tk)
		}
		if want := strings.Count(src[:tk.off], "\n") + 1; tk.line != want {
			t.Fatalf("token %d on line %d, want %d", i, tk.line, want)
		}
		prevEnd = tk.off + len(tk.text)
		if m := lf.match[i]; m >= 0 && isCloseBracket(tk) && lf.match[m] != i {
			t.Fatalf("closer %d matches %d, which matches %d", i, m, lf.match[m])
		}
		if m := lf.match[i]; isOpenBracket(tk) && (m < i || m >= len(lf.toks)) {
			t.Fatalf("opener %d matches %d", i, m)
		}
		if p := lf.parent[i]; p >= i || (p >= 0 && !isOpenBracket(lf.toks[p])) {
			t.Fatalf("token %d has parent %d", i, p)
		}
	}
}

// checkReport asserts what any analysis must hold to.
func checkReport(t *testing.T, rep *fileReport) {
	t.Helper()
	for _, f := range rep.funcs {
		if f.Cyclomatic < 1 || f.Lines < 1 || f.MaxNesting < 0 || f.Params < 0 || f.Line < 1 || f.Name == "" {
			t.Fatalf("bad function %+v", f)
		}
	}
	for _, f := range rep.findings {
		if f.Line < 1 || f.Rule == "" || ruleType(f.Rule) == "" || f.Message == "" {
			t.Fatalf("bad finding %+v", f)
		}
	}
}

var fuzzSeeds = []string{
	"",
	"def f(a, b=[]):\n    if a and b:\n        return [x for x in b if x]\n    try:\n        pass\n    except:\n        pass\n",
	"class A:\n    def m(self):\n        for i in range(len(xs)):\n            for j in range(len(xs)):\n                s += 'x'\n",
	"x = f'{a!r:>{w}}' + '''unterminated\n",
	"os.system('rm ' + p); cur.execute(f\"SELECT * FROM t WHERE a = {b}\")",
	"function f(a, b) { if (a && b) { return `${a}` } else { for (const x of xs) { s += x } } }",
	"const g = async (x) => { try { await h(x) } catch (e) {} }; class K { m() { return /re/g } }",
	"exec('ls ' + d); db.query(`SELECT * FROM t WHERE id = ${id}`); eval(x); fs.readFileSync(p)",
	"`${`${`${'`'}`}`}` `${\n",
	"a = <div>it's {x / y}</div>; r = /[/]/g; a /= 2 / 3;",
	strings.Repeat("{", 300) + strings.Repeat("(", 300),
	strings.Repeat("if (x) ", 200) + "y;",
	")))]]]}}}\n\tdef f(:\n  \\\n",
	"x = '\xff'\n\xfe\x00\n",
	"=> => ) => ( => { => } =>",
	"function\nclass\ndef\nelif\nexcept\ncase\nmatch x:\n case _:\n",
	"password = 's3cR3t-Pa55w0rd-9x7q'\n# TODO: AKIA" + "Q3EGXYZ7LMNOP2RS\n",
	"for (;;) for (;;) for (;;) do x; while (y)\nwhile (z);",
}

// FuzzLexical feeds arbitrary text to the scanner and to both lexical
// analyses: none may panic, and the scanner's invariants must hold.
func FuzzLexical(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		for _, python := range []bool{true, false} {
			checkLexed(t, src, lex(src, python))
		}
		checkReport(t, analyzePython("f.py", []byte(src)))
		checkReport(t, analyzeJS("f.ts", langTypeScript, []byte(src)))
	})
}

// FuzzGo feeds arbitrary text to the Go analysis, which works from whatever
// tree the parser recovers: it must not panic.
func FuzzGo(f *testing.F) {
	seeds := []string{
		"package p\nfunc F(a, b int) { if a > b && b > 0 { for range 3 {} } }",
		"package p\nfunc (s *S[T]) M() { defer func() { recover() }(); for { defer f() } }",
		"package p\nfunc F( {\n\tfor {\n}",
		"package p\nvar x = func() { panic(1) }\nconst c = \"SELECT \" + \"x\"",
		"package p\nimport (\"os/exec\"; \"fmt\")\nfunc F(s string) { exec.Command(\"sh\", \"-c\", fmt.Sprintf(s)); db.Query(\"SELECT * FROM t\" + s) }",
		"package p\nfunc F() { x, _ := f(); _ = g(); var out []int; for _, v := range xs { out = append(out, v) } }",
		"package",
		"",
	}
	for _, s := range append(seeds, fuzzSeeds...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		checkReport(t, analyzeGo("f.go", []byte(src)))
	})
}
