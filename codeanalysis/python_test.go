package codeanalysis

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPythonFunctionMetrics(t *testing.T) {
	code := src(
		"import os, sys as system",              // 1
		"from collections import abc",           // 2
		"from . import sibling",                 // 3
		"",                                      // 4
		"def five(a, b, xs):",                   // 5
		"    '''if for while in a docstring'''", // 6
		"    if a > 0 and b > 0:",               // 7
		"        return 1",                      // 8
		"    for x in xs:",                      // 9
		"        if x > 2:  # if in a comment",  // 10
		"            return x",                  // 11
		"    return 0",                          // 12
		"",                                      // 13
		"class Shape:",                          // 14
		"    def area(self, scale=1):",          // 15
		"        s = \"or and if\"",             // 16
		"        return [v for v in self.vs if v] if scale else None", // 17
		"",                                      // 18
		"    @staticmethod",                     // 19
		"    async def load(path, *, strict):",  // 20
		"        try:",                          // 21
		"            with open(path) as f:",     // 22
		"                while True:",           // 23
		"                    pass",              // 24
		"        except OSError:",               // 25
		"            raise",                     // 26
		"",                                      // 27
		"def outer(*args, **kwargs):",           // 28
		"    def inner(x):",                     // 29
		"        return x or 1",                 // 30
		"    match args:",                       // 31
		"        case [a]:",                     // 32
		"            return inner(a)",           // 33
		"        case _:",                       // 34
		"            return None",               // 35
		"one = lambda: 1",                       // 36
		"def oneliner(x): return x if x else 0", // 37
	)
	res := analyzeOne(t, "m.py", code, TypeComplexity)
	want := []Function{
		{File: "m.py", Name: "five", Line: 5, Cyclomatic: 5, Lines: 8, MaxNesting: 2, Params: 3},
		{File: "m.py", Name: "Shape.area", Line: 15, Cyclomatic: 4, Lines: 3, MaxNesting: 0, Params: 1},
		{File: "m.py", Name: "Shape.load", Line: 20, Cyclomatic: 3, Lines: 7, MaxNesting: 3, Params: 2},
		{File: "m.py", Name: "outer", Line: 28, Cyclomatic: 2, Lines: 8, MaxNesting: 1, Params: 2},
		{File: "m.py", Name: "inner", Line: 29, Cyclomatic: 2, Lines: 2, MaxNesting: 0, Params: 1},
		{File: "m.py", Name: "oneliner", Line: 37, Cyclomatic: 2, Lines: 1, MaxNesting: 0, Params: 1},
	}
	if diff := cmp.Diff(want, res.Functions); diff != "" {
		t.Errorf("functions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{".", "collections", "os", "sys"}, res.Files[0].Imports); diff != "" {
		t.Errorf("imports (-want +got):\n%s", diff)
	}
	if !res.Approximate || len(res.Notes) == 0 {
		t.Errorf("a lexical analysis must say it is approximate: %v %v", res.Approximate, res.Notes)
	}
}

func TestPythonRules(t *testing.T) {
	cases := []ruleCase{
		{"cyclomatic", "a.py", TypeComplexity, "py-cyclomatic", src(
			"def f(x):",
			"    if x and x or x and x or x and x or x and x or x and x or x:",
			"        pass",
			"def g(x):",
			"    return x and x or x",
		), []int{1}},
		{"deep nesting", "a.py", TypePatterns, "py-deep-nesting", src(
			"def f(x):",
			"    for a in x:",
			"        while a:",
			"            with a:",
			"                try:",
			"                    if a:", // 6
			"                        pass",
			"                except E:",
			"                    pass",
			"def g(x):",
			"    if x:",
			"        if x:",
			"            if x:",
			"                if x:",
			"                    pass",
		), []int{6}},
		{"too many params", "a.py", TypePatterns, "py-too-many-params", src(
			"def f(a, b, c, d, e, f): pass",
			"class C:",
			"    def m(self, a, b, c, d, e): pass",
			"    def n(self, a, b, c, d, e, *rest): pass", // 4
		), []int{1, 4}},
		{"bare except", "a.py", TypePatterns, "py-bare-except", src(
			"try:",
			"    x()",
			"except:", // 3
			"    log()",
			"try:",
			"    x()",
			"except Exception:",
			"    log()",
		), []int{3}},
		{"swallowed exception", "a.py", TypePatterns, "py-swallowed-exception", src(
			"try:",
			"    x()",
			"except ValueError:", // 3
			"    pass",
			"except KeyError: ...", // 5
			"except OSError:",
			"    pass",
			"    log()",
			"except TypeError:",
			"    pass  # optional feature: absence is fine",
			"y = 1",
		), []int{3, 5}},
		{"mutable default", "a.py", TypePatterns, "py-mutable-default", src(
			"def f(a, b=[], c={}, d=None, e=list(), f=(1,)):",
			"    pass",
		), []int{1, 1, 1}},
		{"todo", "a.py", TypePatterns, "todo-comment", src(
			"x = 1  # TODO: fix",
			"s = '# TODO not a comment'",
			"# FIXME later",
		), []int{1, 3}},
		{"shell injection", "a.py", TypeSecurity, "py-shell-injection", src(
			"import os, subprocess",
			"def f(p, cmd):",
			"    os.system('rm -rf ' + p)", // 3
			"    os.system('ls -la')",
			"    os.popen(f'cat {p}')",                    // 5
			"    subprocess.run('ls %s' % p, shell=True)", // 6
			"    subprocess.run(['ls', p])",
			"    subprocess.run('ls {}'.format(p))",        // no shell
			"    subprocess.check_output(cmd, shell=True)", // 9: warning
			"    subprocess.call('make all', shell=True)",
			"    c = 'grep ' + p",
			"    subprocess.Popen(c, shell=True)", // 12: via variable
		), []int{3, 5, 6, 9, 12}},
		{"sql injection", "a.py", TypeSecurity, "py-sql-injection", src(
			"def f(cur, name):",
			"    cur.execute(\"SELECT * FROM users WHERE name = '\" + name + \"'\")", // 2
			"    cur.execute(f\"DELETE FROM t WHERE id = {name}\")",                  // 3
			"    cur.execute(\"UPDATE t SET a = 1 WHERE b = %s\" % name)",            // 4
			"    cur.execute(\"SELECT * FROM t WHERE id = %s\", (name,))",
			"    cur.execute(\"INSERT INTO t VALUES (?)\", [name])",
			"    q = \"SELECT id FROM t WHERE n = '{}'\".format(name)",
			"    cur.executemany(q, [])", // 8
			"    print(\"select an item \" + name)",
		), []int{2, 3, 4, 8}},
		{"weak hash", "a.py", TypeSecurity, "py-weak-hash", src(
			"import hashlib",
			"from hashlib import sha1",      // 2
			"hashlib.md5(b'x').hexdigest()", // 3
			"hashlib.sha1(b'x', usedforsecurity=False)",
			"hashlib.new('MD5')", // 5
			"hashlib.sha256(b'x')",
		), []int{2, 3, 5}},
		{"eval", "a.py", TypeSecurity, "py-eval", src(
			"eval(expr)",       // 1
			"exec(f'x = {y}')", // 2
			"model.eval()",
			"ast.literal_eval(s)",
			"def eval(x): pass",
		), []int{1, 2}},
		{"string concat in loop", "a.py", TypePerformance, "py-string-concat-in-loop", src(
			"def f(xs):",
			"    s = ''",
			"    n = 0",
			"    parts = []",
			"    for x in xs:",
			"        s += x", // 6: s holds a string
			"        n += 1",
			"        parts += ['a']",
			"    while n:",
			"        out += str(n)", // 10
			"    s += 'end'",
			"    for x in xs:",
			"        msg = 'item '",
			"        msg += x", // reset on every iteration
		), []int{6, 10}},
		{"nested loops", "a.py", TypePerformance, "py-nested-loop-same-collection", src(
			"def f(items, other):",
			"    for a in items:",
			"        for b in items:", // 3
			"            pass",
			"        for c in other:",
			"            pass",
			"    for i in range(len(items)):",
			"        for j in enumerate(items):", // 8
			"            pass",
		), []int{3, 8}},
	}
	runRuleCases(t, cases)
}
