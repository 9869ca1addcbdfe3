package codeanalysis

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGoFunctionMetrics(t *testing.T) {
	code := src(
		"package lib", // 1
		"",            // 2
		"import (",    // 3
		"\t\"fmt\"",   // 4
		"\tstr \"strings\"",
		"\t_ \"embed\"", // 6
		")",             // 7
		"",              // 8
		"// Five has two ifs, a for and an &&.",
		"func Five(a, b int, xs []int) int {", // 10
		"\tif a > 0 && b > 0 {",               // 11
		"\t\treturn 1",                        // 12
		"\t}",                                 // 13
		"\tfor i := 0; i < len(xs); i++ {",    // 14
		"\t\tif xs[i] > 2 {",                  // 15
		"\t\t\treturn i",                      // 16
		"\t\t}",                               // 17
		"\t}",                                 // 18
		"\treturn 0",                          // 19
		"}",                                   // 20
		"",                                    // 21
		"func (s *Server) Pick(c chan int, v any) string {", // 22
		"\tswitch v.(type) {",                               // 23
		"\tcase int, int64:",                                // 24
		"\t\treturn \"int\"",                                // 25
		"\tcase string:",                                    // 26
		"\tdefault:",                                        // 27
		"\t}",                                               // 28
		"\tselect {",                                        // 29
		"\tcase <-c:",                                       // 30
		"\tcase c <- 1:",                                    // 31
		"\tdefault:",                                        // 32
		"\t}",                                               // 33
		"\treturn fmt.Sprint(v) + str.ToLower(\"X\")", // 34
		"}",                                   // 35
		"func (l List[T]) Chain(x int) int {", // 36
		"\tif x == 1 {",                       // 37
		"\t\treturn 1",                        // 38
		"\t} else if x == 2 || x == 3 {",      // 39
		"\t\treturn 2",                        // 40
		"\t} else {",                          // 41
		"\t\tif x > 9 {",                      // 42
		"\t\t\treturn 9",                      // 43
		"\t\t}",                               // 44
		"\t}",                                 // 45
		"\treturn 0",                          // 46
		"}",                                   // 47
		"func Outer() func() {",               // 48
		"\tf := func(ok bool) {",              // 49
		"\t\tif ok {",                         // 50
		"\t\t\tgo func() {",                   // 51
		"\t\t\t\tfor range 3 {",               // 52
		"\t\t\t\t}",                           // 53
		"\t\t\t}()",                           // 54
		"\t\t}",                               // 55
		"\t}",                                 // 56
		"\tf(true)",                           // 57
		"\treturn func() {}",                  // 58
		"}",                                   // 59
		"func Straight() {}",                  // 60
		"var hook = func() bool { return true && false }", // 61
	)
	res := analyzeOne(t, "lib.go", code, TypeComplexity)
	want := []Function{
		{File: "lib.go", Name: "Five", Line: 10, Cyclomatic: 5, Lines: 11, MaxNesting: 2, Params: 3},
		{File: "lib.go", Name: "(*Server).Pick", Line: 22, Cyclomatic: 5, Lines: 14, MaxNesting: 1, Params: 2},
		{File: "lib.go", Name: "List.Chain", Line: 36, Cyclomatic: 5, Lines: 12, MaxNesting: 2, Params: 1},
		{File: "lib.go", Name: "Outer", Line: 48, Cyclomatic: 1, Lines: 12, MaxNesting: 0, Params: 0},
		{File: "lib.go", Name: "Outer.func1", Line: 49, Cyclomatic: 2, Lines: 8, MaxNesting: 1, Params: 1},
		{File: "lib.go", Name: "Outer.func1.1", Line: 51, Cyclomatic: 2, Lines: 4, MaxNesting: 1, Params: 0},
		{File: "lib.go", Name: "Outer.func2", Line: 58, Cyclomatic: 1, Lines: 1, MaxNesting: 0, Params: 0},
		{File: "lib.go", Name: "Straight", Line: 60, Cyclomatic: 1, Lines: 1, MaxNesting: 0, Params: 0},
		{File: "lib.go", Name: "glob..func1", Line: 61, Cyclomatic: 2, Lines: 1, MaxNesting: 0, Params: 0},
	}
	if diff := cmp.Diff(want, res.Functions); diff != "" {
		t.Errorf("functions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"embed", "fmt", "strings"}, res.Files[0].Imports); diff != "" {
		t.Errorf("imports (-want +got):\n%s", diff)
	}
	if res.Summary.Functions != len(want) || res.Summary.MaxCyclomatic != 5 {
		t.Errorf("summary = %+v", res.Summary)
	}
	if res.Approximate {
		t.Errorf("a Go file that parses is not approximate: %v", res.Notes)
	}
}

// manyIfs is a function with n ifs in a row, so cyclomatic complexity n+1.
func manyIfs(n int) string {
	return "func F(x int) {\n" + strings.Repeat("\tif x > 0 {\n\t}\n", n) + "}\n"
}

// nested is a function with n nested ifs; the deepest is on line 2+n.
func nested(n int) string {
	return "func F(x int) {\n" + strings.Repeat("if x > 0 {\n", n) + strings.Repeat("}\n", n) + "}\n"
}

// long is a function of n lines.
func long(n int) string {
	return "func F() {\n" + strings.Repeat("\tprintln()\n", n-2) + "}\n"
}

func TestGoRules(t *testing.T) {
	const pkg = "package lib\n"
	cases := []ruleCase{
		// complexity
		{"cyclomatic 11", "a.go", TypeComplexity, "go-cyclomatic", pkg + manyIfs(10), []int{2}},
		{"cyclomatic 10", "a.go", TypeComplexity, "go-cyclomatic", pkg + manyIfs(9), []int{}},
		// patterns
		{"long 61", "a.go", TypePatterns, "go-long-function", pkg + long(61), []int{2}},
		{"long 60", "a.go", TypePatterns, "go-long-function", pkg + long(60), []int{}},
		{"nesting 5", "a.go", TypePatterns, "go-deep-nesting", pkg + nested(5), []int{7}},
		{"nesting 4", "a.go", TypePatterns, "go-deep-nesting", pkg + nested(4), []int{}},
		{"params 6", "a.go", TypePatterns, "go-too-many-params", pkg + "func F(a, b, c int, d string, e, f bool) {}\n", []int{2}},
		{"params 5", "a.go", TypePatterns, "go-too-many-params", pkg + "func F(a, b, c int, d string, e bool) {}\n", []int{}},
		{"ignored error", "a.go", TypePatterns, "go-ignored-error", src(
			"package lib; import (\"fmt\"; \"strings\")",
			"func F(p string, m map[string]int, x any) {",
			"\t_ = os.Remove(p)",        // 3
			"\tn, _ := strconv.Atoi(p)", // 4
			"\t_ = n",                   // not a call
			"\tv, _ := m[p]",            // map index
			"\t_, _ = x.(int)",          // type assertion
			"\t_, _ = fmt.Println(v)",   // printing
			"\t_ = len(p)",              // builtin
			"\tif err := os.Remove(p); err != nil {",
			"\t}",
			"\tbefore, _, _ := strings.Cut(p, \"=\")", // a found flag
			"\tline, _ := pos()",                      // declared here: (int, int)
			"\t_, _ = before, line",
			"\t_, _ = parse()", // 15: declared here, ends in error
			"\t_ = os.Remove(p) // gone already is fine",
			"\tv2, _ := cache.Load(p)", // sync.Map style
			"\t_ = v2",
			"}",
			"func pos() (int, int) { return 1, 2 }",
			"func parse() (int, error) { return 0, nil }",
		), []int{3, 4, 15}},
		{"panic in library", "a.go", TypePatterns, "go-panic", src(
			"package lib",
			"func F() { panic(\"x\") }",
			"func MustF() { panic(\"x\") }",
			"func G() { defer func() { panic(\"y\") }() }",
		), []int{2, 4}},
		{"panic in main", "a.go", TypePatterns, "go-panic", "package main\nfunc main() { panic(1) }\n", []int{}},
		{"panic in test", "a_test.go", TypePatterns, "go-panic", "package lib\nfunc helper() { panic(1) }\n", []int{}},
		{"todo", "a.go", TypePatterns, "todo-comment", src(
			"package lib",
			"// TODO: one",
			"/* a",
			"   FIXME two */",
			"// todo lowercase is prose",
			"var x = 1 // XXX three",
			"var y = \"TODO in a string\"",
			"// a TODO in prose is not a marker",
			"// see TODO(ann): a marker after all", // 9
		), []int{2, 4, 6, 9}},
		// performance
		{"defer in loop", "a.go", TypePerformance, "go-defer-in-loop", src(
			"package lib",
			"func F(fs []string) {",
			"\tdefer done()",
			"\tfor _, f := range fs {",
			"\t\tdefer close(f)", // 5
			"\t\tfunc() { defer close(f) }()",
			"\t}",
			"}",
		), []int{5}},
		{"string concat in loop", "a.go", TypePerformance, "go-string-concat-in-loop", src(
			"package lib",
			"func F(xs []string, t string) string {",
			"\tvar s string",
			"\tout := \"\"",
			"\tn := 0",
			"\tfor _, x := range xs {",
			"\t\ts += x",        // 7: declared string
			"\t\tout = out + t", // 8: initialised with a string
			"\t\tn += 1",        // number
			"\t\tt += \",\"",    // 10: a string literal
			"\t\tmsg := \"item \" + x",
			"\t\tmsg += \"!\"", // declared in the loop: starts afresh each time
			"\t\tprintln(msg)",
			"\t}",
			"\ts += \"end\"",
			"\treturn s + out",
			"}",
		), []int{7, 8, 10}},
		{"regexp in loop", "a.go", TypePerformance, "go-regexp-compile-in-loop", src(
			"package lib; import \"regexp\"",
			"var re = regexp.MustCompile(`^a`)",
			"func parse(s string) bool { return regexp.MustCompile(`b+`).MatchString(s) }", // 3
			"func F(xs []string, pat string) {",
			"\tfor _, x := range xs {",
			"\t\tregexp.MustCompile(\"c\")", // 6
			"\t\tregexp.Compile(pat)",       // dynamic: cannot be hoisted
			"\t\tparse(x)",
			"\t\t_ = re",
			"\t}",
			"}",
		), []int{3, 6}},
		{"sprintf in loop", "a.go", TypePerformance, "go-sprintf-in-loop", src(
			"package lib; import \"fmt\"",
			"func F(xs []int) {",
			"\t_ = fmt.Sprintf(\"%d\", len(xs))",
			"\tfor _, x := range xs {",
			"\t\tprintln(fmt.Sprintf(\"%d\", x))", // 5
			"\t}",
			"}",
		), []int{5}},
		{"append without prealloc", "a.go", TypePerformance, "go-append-no-prealloc", src(
			"package lib",
			"func F(xs []int) ([]int, []int, []int, []int) {",
			"\tvar a []int",
			"\tb := []int{}",
			"\tc := make([]int, 0, len(xs))",
			"\tvar d []int",
			"\tfor _, x := range xs {",
			"\t\ta = append(a, x)",   // 8
			"\t\tb = append(b, x*2)", // 9 is not reported: one per loop
			"\t}",
			"\tfor _, x := range xs {",
			"\t\tc = append(c, x)", // has capacity
			"\t\tif x > 0 {",
			"\t\t\td = append(d, x)", // conditional
			"\t\t}",
			"\t}",
			"\tfor _, x := range xs {",
			"\t\tif x < 0 {",
			"\t\t\tcontinue",
			"\t\t}",
			"\t\tb = append(b, x)", // skipped iterations: length unknown
			"\t}",
			"\treturn a, b, c, d",
			"}",
		), []int{8}},
		// security
		{"command injection", "a.go", TypeSecurity, "go-command-injection", src(
			"package lib",
			"import (\"fmt\"; \"os/exec\")",
			"func F(name string, args []string) {",
			"\texec.Command(\"sh\", \"-c\", \"ls \"+name)",                        // 4: error
			"\texec.Command(\"/bin/bash\", \"-c\", fmt.Sprintf(\"ls %s\", name))", // 5: error
			"\texec.Command(\"sh\", \"-c\", \"ls -la\")",                          // constant
			"\texec.Command(\"sh\", \"-c\", name)",                                // 7: warning, a variable
			"\texec.Command(\"git\", \"log\", name+\"..HEAD\")",                   // 8: warning, may start with "-"
			"\texec.Command(\"git\", args...)",                                    // normal
			"\texec.CommandContext(ctx, \"sh\", \"-c\", \"echo \"+name)",          // 10: error
			"\texec.Command(\"git\", \"log\", \"--author=\"+name)",                // a value after an option
			"\texec.Command(\"git\", fmt.Sprintf(\"--format=%s\", name))",
			"\texec.Command(\"git\", fmt.Sprintf(\"%s\", name))", // 13
			"}",
		), []int{4, 5, 7, 8, 10, 13}},
		{"sql injection", "a.go", TypeSecurity, "go-sql-injection", src(
			"package lib; import \"fmt\"",
			"const table = \"users\"",
			"func F(db *sql.DB, ctx context.Context, id string) {",
			"\tdb.Query(\"SELECT * FROM users WHERE id = '\" + id + \"'\")",               // 4
			"\tdb.QueryRowContext(ctx, fmt.Sprintf(\"DELETE FROM t WHERE id = %s\", id))", // 5
			"\tq := \"UPDATE users SET name = 'x' WHERE id = \" + id",
			"\tdb.Exec(q)", // 7
			"\tdb.Query(\"SELECT * FROM users WHERE id = ?\", id)",
			"\tdb.Query(\"SELECT * FROM \" + table + \" WHERE id = $1\", id)",
			"\tdb.Query(\"select an option\" + id)",
			"\tstrings.Join([]string{id}, \",\")",
			"}",
		), []int{4, 5, 7}},
		{"weak hash", "a.go", TypeSecurity, "go-weak-hash", src(
			"package lib",
			"import (",
			"\t\"crypto/md5\"",
			"\t\"crypto/sha256\"",
			"\t_ \"crypto/sha1\"", // 5: imported, not used by name
			")",
			"func F(b []byte) {",
			"\tmd5.Sum(b)", // 8
			"\tsha256.Sum256(b)",
			"\th := hmac.New(md5.New, b)", // 10
			"\t_ = h",
			"}",
		), []int{5, 8, 10}},
		{"math/rand for tokens", "a.go", TypeSecurity, "go-math-rand", src(
			"package lib",
			"import \"math/rand\"",
			"func newToken() int { return rand.Int() }", // 3
			"func shuffle(xs []int) { rand.Shuffle(len(xs), nil) }",
			"func F() {",
			"\tsessionID := rand.Int63()", // 6
			"\tjitter := rand.Intn(10)",
			"\t_, _ = sessionID, jitter",
			"}",
		), []int{3, 6}},
		{"tls insecure", "a.go", TypeSecurity, "go-tls-insecure", src(
			"package lib",
			"var a = &tls.Config{InsecureSkipVerify: true}", // 2
			"var b = &tls.Config{InsecureSkipVerify: false}",
			"func F(c *tls.Config, v bool) {",
			"\tc.InsecureSkipVerify = v", // 5
			"\tc.InsecureSkipVerify = false",
			"}",
		), []int{2, 5}},
		{"hardcoded secret", "a.go", TypeSecurity, "secret-hardcoded", src(
			"package lib",
			"const tokenEnv = \"API_TOKEN\"",          // a variable name
			"var password = \"s3cR3t-Pa55w0rd-9x7q\"", // 3
			"var passwordField = \"Xy7kLm9pQ2wZ\"",    // a field name
			"func F(token string) bool {",
			"\tapiKey := \"changeme-please-1234\"",                        // placeholder
			"\tcfg := Config{ClientSecret: \"Qm9vLTk4MjE3YWJj\"}",         // 7
			"\tm := map[string]string{\"api_key\": \"zX81kPq0LmW2vB7n\"}", // 8
			"\t_, _ = cfg, m",
			"\treturn token == \"9f8Ka7Lm2Qp4Xz1W\"", // 10
			"}",
		), []int{3, 7, 8, 10}},
	}
	runRuleCases(t, cases)
}

func TestGoInvalidSyntax(t *testing.T) {
	code := src(
		"package lib",
		"func Good(x int) int {",
		"\tif x > 0 {",
		"\t\treturn 1",
		"\t}",
		"\treturn 0",
		"}",
		"func Bad( {", // 8
		"\tfor {",
		"}",
	)
	for _, typ := range Types() {
		res := analyzeOne(t, "bad.go", code, typ)
		errs := only(res, "go-parse-error")
		if len(errs) == 0 || errs[0].Line != 8 || errs[0].Severity != SeverityError {
			t.Fatalf("%s: want a go-parse-error on line 8, got %s", typ, dump(res.Findings))
		}
		if !res.Approximate || len(res.Notes) == 0 || !res.Files[0].Approximate {
			t.Errorf("%s: a file with syntax errors must be marked approximate: %+v", typ, res)
		}
		if typ == TypeComplexity {
			if len(res.Functions) == 0 || res.Functions[0].Name != "Good" || res.Functions[0].Cyclomatic != 2 {
				t.Errorf("the recovered tree still yields Good: %+v", res.Functions)
			}
		}
	}
}
