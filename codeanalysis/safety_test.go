package codeanalysis

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRequestErrors(t *testing.T) {
	outside := writeTree(t, map[string]string{"secret.go": "package secret\n"})
	dir := writeTree(t, map[string]string{
		"a.go":       "package a\n",
		"sub/b.py":   "x = 1\n",
		"small.go":   "package a\n" + strings.Repeat("// pad\n", 20),
		"nul.go":     "package a\x00\n",
		"latin1.py":  "# caf\xe9\nx = 1\n" + strings.Repeat("y = 2\n", 10),
		"garbage.js": strings.Repeat("\xff\xfe\xfa", 30),
	})
	mustLink(t, filepath.Join(outside, "secret.go"), filepath.Join(dir, "link.go"))
	mustLink(t, outside, filepath.Join(dir, "linkdir"))
	mustLink(t, filepath.Join(dir, "a.go"), filepath.Join(dir, "alias.go"))

	a := mustNew(t, Options{Roots: []string{dir}, MaxFileBytes: 100})
	cases := []struct {
		name     string
		req      Request
		sentinel error
		contains []string
	}{
		{"dot-dot traversal", Request{Path: "../../etc/passwd", Type: "security"}, ErrOutsideRoots, []string{"../../etc/passwd", dir}},
		{"dot-dot inside a path", Request{Path: "sub/../../x.go", Type: "security"}, ErrOutsideRoots, []string{"sub/../../x.go", dir}},
		{"absolute elsewhere", Request{Path: filepath.Join(outside, "secret.go"), Type: "security"}, ErrOutsideRoots, []string{"secret.go", dir}},
		{"absolute system file", Request{Path: "/etc/passwd", Type: "security"}, ErrOutsideRoots, []string{"/etc/passwd", "allowed roots"}},
		{"symlinked file escaping", Request{Path: "link.go", Type: "security"}, ErrOutsideRoots, []string{"link.go", "symbolic link", dir}},
		{"symlinked dir escaping", Request{Path: "linkdir", Type: "security"}, ErrOutsideRoots, []string{"linkdir", "symbolic link"}},
		{"through a symlinked dir", Request{Path: "linkdir/secret.go", Type: "security"}, ErrOutsideRoots, []string{"linkdir/secret.go"}},
		{"too large", Request{Path: "small.go", Type: "patterns"}, ErrTooLarge, []string{"small.go", "150 bytes", "100 bytes"}},
		{"NUL byte", Request{Path: "nul.go", Type: "patterns"}, ErrBinary, []string{"nul.go", "NUL byte"}},
		{"invalid UTF-8", Request{Path: "garbage.js", Type: "patterns"}, ErrBinary, []string{"garbage.js", "invalid UTF-8"}},
		{"nonexistent", Request{Path: "missing.go", Type: "patterns"}, ErrNotFound, []string{"missing.go"}},
		{"nonexistent dir", Request{Path: "no/such/dir", Type: "patterns"}, ErrNotFound, []string{"no/such/dir"}},
		{"parent is a file", Request{Path: "a.go/x.go", Type: "patterns"}, ErrNotFound, []string{"a.go/x.go"}},
		{"unknown type", Request{Path: "a.go", Type: "style"}, ErrBadRequest, []string{`"style"`, "complexity, patterns, security, performance"}},
		{"no type", Request{Path: "a.go"}, ErrBadRequest, []string{"complexity, patterns, security, performance"}},
		{"no path", Request{Type: "security"}, ErrBadRequest, []string{"path is required"}},
		{"NUL in path", Request{Path: "a\x00.go", Type: "security"}, ErrBadRequest, []string{"NUL"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := a.Analyze(context.Background(), c.req)
			if !errors.Is(err, c.sentinel) {
				t.Fatalf("err = %v, want %v (result %+v)", err, c.sentinel, res)
			}
			if res != nil {
				t.Errorf("a failed request returns no result")
			}
			for _, s := range c.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			if strings.Contains(err.Error(), "package secret") {
				t.Errorf("error leaks file contents: %v", err)
			}
		})
	}

	// The same tree, read where it is allowed.
	for _, p := range []string{"a.go", "alias.go", "sub/b.py", "sub", ".", dir, filepath.Join(dir, "sub", "b.py"), "latin1.py"} {
		if _, err := a.Analyze(context.Background(), Request{Path: p, Type: " Security "}); err != nil {
			t.Errorf("Analyze(%q): %v", p, err)
		}
	}
	res, err := a.Analyze(context.Background(), Request{Path: "alias.go", Type: "complexity"})
	if err != nil || res.Path != "alias.go" || res.Kind != "file" {
		t.Errorf("a link inside the root is analysed under its own name: %+v, %v", res, err)
	}
}

func TestDefaultSizeLimit(t *testing.T) {
	big := "package a\n" + strings.Repeat("// "+strings.Repeat("x", 60)+"\n", DefaultMaxFileBytes/64+1)
	dir := writeTree(t, map[string]string{"big.go": big})
	_, err := mustNew(t, Options{Roots: []string{dir}}).Analyze(context.Background(), Request{Path: "big.go", Type: "complexity"})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "1048576 bytes (1.0 MiB)") {
		t.Fatalf("err = %v", err)
	}
}

func TestUnsupportedSingleFile(t *testing.T) {
	res := analyzeOne(t, "README.md", "# Title\n", TypePatterns)
	if res.FilesAnalyzed != 0 || res.FilesSkipped != 1 || res.Skipped[0].Reason != "unsupported language" || len(res.Notes) == 0 {
		t.Errorf("an unsupported file is skipped with a note: %+v", res)
	}
}

func TestCancelled(t *testing.T) {
	dir := writeTree(t, map[string]string{"a.go": "package a\n"})
	a := mustNew(t, Options{Roots: []string{dir}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, p := range []string{"a.go", "."} {
		if _, err := a.Analyze(ctx, Request{Path: p, Type: "complexity"}); !errors.Is(err, context.Canceled) {
			t.Errorf("Analyze(%q) with a cancelled context: %v", p, err)
		}
	}
}

func TestNewErrors(t *testing.T) {
	dir := writeTree(t, map[string]string{"f.go": "package f\n"})
	for _, roots := range [][]string{{filepath.Join(dir, "missing")}, {filepath.Join(dir, "f.go")}, {""}} {
		if _, err := New(Options{Roots: roots}); err == nil {
			t.Errorf("New(%q) accepted a bad root", roots)
		}
	}
	wd, _ := os.Getwd()
	a := mustNew(t, Options{})
	if got := a.Roots(); len(got) != 1 || got[0] != wd {
		t.Errorf("default roots = %v, want the working directory %s", got, wd)
	}
}

func TestRootsAndSymlinkedRoot(t *testing.T) {
	first := writeTree(t, map[string]string{"one.go": "package one\n"})
	second := writeTree(t, map[string]string{"two.py": "x = 1\n"})
	link := filepath.Join(t.TempDir(), "first-link")
	mustLink(t, first, link)
	a := mustNew(t, Options{Roots: []string{link, second, second}})
	if got := a.Roots(); len(got) != 2 || got[0] != link {
		t.Errorf("roots = %v (duplicates are dropped, links kept as given)", got)
	}
	for _, p := range []string{"one.go", "two.py", filepath.Join(link, "one.go"), filepath.Join(first, "one.go")} {
		res, err := a.Analyze(context.Background(), Request{Path: p, Type: "complexity"})
		if err != nil {
			t.Errorf("Analyze(%q): %v", p, err)
			continue
		}
		if res.Path != filepath.Base(p) {
			t.Errorf("Analyze(%q).Path = %q", p, res.Path)
		}
	}
}

func mustLink(tb testing.TB, target, link string) {
	tb.Helper()
	if err := os.Symlink(target, link); err != nil {
		tb.Skipf("symbolic links unavailable: %v", err)
	}
}

// Odd inputs: every language, every type, no error and no panic.
func TestWeirdInput(t *testing.T) {
	deep := strings.Repeat("{", 20000) + strings.Repeat("}", 19000)
	inputs := map[string]string{
		"empty":          "",
		"only comments":  "// a\n/* b */\n# c\n",
		"unterminated":   "x = 'abc\ny = \"\"\"never closed\nconst z = `${ { ( [\n",
		"deep braces":    deep,
		"deep parens":    strings.Repeat("(", 5000) + "x",
		"stray closers":  ")))]]]}}}\n\tdef f(:\n",
		"invalid utf8":   "x = '\xff'\n\xfe\n",
		"crlf":           "def f():\r\n    if x:\r\n        pass\r\n",
		"bom":            "\uFEFFpackage x\n",
		"lone keywords":  "def\nclass\nfunction\n=>\nif\nfor\ncatch\n",
		"regexp and jsx": "const a = <div>it's {x / y} </div>; const r = /[/]/g; a /= 2 / 3;",
		"template mess":  "`${`${`${'`'}`}`}` `${\n",
	}
	for name, code := range inputs {
		for _, file := range []string{"x.go", "x.py", "x.js", "x.tsx"} {
			for _, typ := range Types() {
				dir := writeTree(t, map[string]string{file: code})
				res, err := mustNew(t, Options{Roots: []string{dir}}).Analyze(context.Background(), Request{Path: file, Type: typ})
				if err != nil {
					if name == "invalid utf8" && errors.Is(err, ErrBinary) {
						continue
					}
					t.Errorf("%s %s %s: %v", name, file, typ, err)
					continue
				}
				if res.FilesAnalyzed != 1 {
					t.Errorf("%s %s %s: %+v", name, file, typ, res)
				}
			}
		}
	}
}
