package codeanalysis

import "sort"

// Analysis types, the values of Request.Type.
const (
	TypeComplexity  = "complexity"
	TypePatterns    = "patterns"
	TypeSecurity    = "security"
	TypePerformance = "performance"
)

// typeAny marks rules reported whatever the analysis type (a Go syntax
// error affects every kind of result).
const typeAny = "any"

// Types returns the analysis types, in the order documentation lists them.
func Types() []string {
	return []string{TypeComplexity, TypePatterns, TypeSecurity, TypePerformance}
}

// Thresholds of the function-shape rules. A function is reported when its
// measure is above the threshold.
const (
	cyclomaticWarning = 10 // go-cyclomatic and friends: warning above this
	cyclomaticError   = 20 // ... and error above this
	longFunction      = 60 // lines
	deepNesting       = 4  // nested control blocks
	manyParams        = 5  // parameters
)

// A Rule describes one kind of Finding.
type Rule struct {
	ID          string   `json:"id"`
	Type        string   `json:"type"`      // the analysis type that reports it, or "any"
	Severity    Severity `json:"severity"`  // the usual severity; some findings are graded up or down, as Description says
	Languages   []string `json:"languages"` // go, python, javascript, typescript
	Description string   `json:"description"`
}

var (
	allLangs = []string{langGo, langPython, langJavaScript, langTypeScript}
	goOnly   = []string{langGo}
	pyOnly   = []string{langPython}
	jsTS     = []string{langJavaScript, langTypeScript}
)

var rules = []Rule{
	{"go-parse-error", typeAny, SeverityError, goOnly, "Go syntax error; the rest of the file's results come from the parser's partial recovery and are marked approximate."},

	{"go-cyclomatic", TypeComplexity, SeverityWarning, goOnly, "Cyclomatic complexity above 10 (error above 20): 1 + if, for, range, non-default case and select clauses, && and ||."},
	{"py-cyclomatic", TypeComplexity, SeverityWarning, pyOnly, "Cyclomatic complexity above 10 (error above 20), counted lexically: 1 + if, elif, for, while, except, case, and, or."},
	{"js-cyclomatic", TypeComplexity, SeverityWarning, jsTS, "Cyclomatic complexity above 10 (error above 20), counted lexically: 1 + if, for, while, case, catch, ?:, &&, ||, ??."},

	{"go-long-function", TypePatterns, SeverityWarning, goOnly, "Function longer than 60 lines."},
	{"py-long-function", TypePatterns, SeverityWarning, pyOnly, "Function longer than 60 lines."},
	{"js-long-function", TypePatterns, SeverityWarning, jsTS, "Function longer than 60 lines."},
	{"go-deep-nesting", TypePatterns, SeverityWarning, goOnly, "Control blocks nested more than 4 deep."},
	{"py-deep-nesting", TypePatterns, SeverityWarning, pyOnly, "Control blocks nested more than 4 deep."},
	{"js-deep-nesting", TypePatterns, SeverityWarning, jsTS, "Control blocks nested more than 4 deep."},
	{"go-too-many-params", TypePatterns, SeverityWarning, goOnly, "More than 5 parameters."},
	{"py-too-many-params", TypePatterns, SeverityWarning, pyOnly, "More than 5 parameters (self and cls not counted)."},
	{"js-too-many-params", TypePatterns, SeverityWarning, jsTS, "More than 5 parameters."},
	{"go-ignored-error", TypePatterns, SeverityWarning, goOnly, "A call's last result (by convention its error) assigned to _; functions declared in the same file are checked for an error result, and a line with a comment (saying why) is not reported."},
	{"go-panic", TypePatterns, SeverityWarning, goOnly, "panic in a library package (not main, not a test, not a Must function)."},
	{"py-bare-except", TypePatterns, SeverityWarning, pyOnly, "Bare except: also catches KeyboardInterrupt and SystemExit."},
	{"py-swallowed-exception", TypePatterns, SeverityWarning, pyOnly, "An except block whose only statement is pass or ..., without a comment saying why."},
	{"py-mutable-default", TypePatterns, SeverityWarning, pyOnly, "A mutable default argument ([], {}, list(), dict(), set()), shared by every call."},
	{"js-empty-catch", TypePatterns, SeverityWarning, jsTS, "An empty catch block, without a comment saying why."},
	{"todo-comment", TypePatterns, SeverityInfo, allLangs, "A TODO, FIXME, XXX or HACK comment."},

	{"secret-aws-key", TypeSecurity, SeverityError, allLangs, "An AWS access key ID (AKIA…, ASIA…)."},
	{"secret-github-token", TypeSecurity, SeverityError, allLangs, "A GitHub token (ghp_…, gho_…, ghu_…, ghs_…, ghr_…, github_pat_…)."},
	{"secret-private-key", TypeSecurity, SeverityError, allLangs, "A PEM private key block."},
	{"secret-hardcoded", TypeSecurity, SeverityError, allLangs, "A high-entropy string literal assigned to a name like password, secret, token or api_key."},
	{"go-command-injection", TypeSecurity, SeverityError, goOnly, "exec.Command running a shell (sh -c) on a command line built by concatenation or fmt.Sprintf (a plain variable is a warning); for other programs, a built argument that starts with a value, which can turn into an option, is a warning."},
	{"go-sql-injection", TypeSecurity, SeverityError, goOnly, "SQL built by concatenation or fmt.Sprintf passed to Query, QueryRow, Exec or Prepare (or their Context forms)."},
	{"go-weak-hash", TypeSecurity, SeverityWarning, goOnly, "crypto/md5 or crypto/sha1, broken for signatures and passwords."},
	{"go-math-rand", TypeSecurity, SeverityInfo, goOnly, "math/rand used for something named like a token, key, password or nonce."},
	{"go-tls-insecure", TypeSecurity, SeverityError, goOnly, "TLS certificate verification disabled with InsecureSkipVerify."},
	{"py-shell-injection", TypeSecurity, SeverityError, pyOnly, "os.system, os.popen or subprocess with shell=True running a command built by concatenation, %, .format or an f-string (a plain variable with shell=True is a warning)."},
	{"py-sql-injection", TypeSecurity, SeverityError, pyOnly, "execute() (and friends) given SQL built by concatenation, %, .format or an f-string."},
	{"py-weak-hash", TypeSecurity, SeverityWarning, pyOnly, "hashlib.md5 or hashlib.sha1 (unless usedforsecurity=False)."},
	{"py-eval", TypeSecurity, SeverityWarning, pyOnly, "eval() or exec() (error when the code is built from variables)."},
	{"js-shell-injection", TypeSecurity, SeverityError, jsTS, "child_process exec or execSync running a command built by concatenation or a template literal."},
	{"js-sql-injection", TypeSecurity, SeverityError, jsTS, "query(), execute(), raw() (and friends) given SQL built by concatenation or an untagged template literal."},
	{"js-weak-hash", TypeSecurity, SeverityWarning, jsTS, "createHash('md5') or createHash('sha1')."},
	{"js-eval", TypeSecurity, SeverityWarning, jsTS, "eval(), new Function() or a string passed to setTimeout/setInterval (error when built from variables)."},

	{"go-defer-in-loop", TypePerformance, SeverityWarning, goOnly, "defer inside a loop: nothing runs until the function returns."},
	{"go-string-concat-in-loop", TypePerformance, SeverityWarning, goOnly, "A string declared outside a loop and grown with += inside it, copied every time."},
	{"go-regexp-compile-in-loop", TypePerformance, SeverityWarning, goOnly, "regexp.Compile or MustCompile of a constant pattern inside a loop, or in a function called from a loop in the same file."},
	{"go-sprintf-in-loop", TypePerformance, SeverityInfo, goOnly, "fmt.Sprintf inside a loop."},
	{"go-append-no-prealloc", TypePerformance, SeverityInfo, goOnly, "A slice declared without capacity and appended to once per iteration of a range loop, whose length is known."},
	{"py-string-concat-in-loop", TypePerformance, SeverityWarning, pyOnly, "A string grown with += inside a loop."},
	{"py-nested-loop-same-collection", TypePerformance, SeverityInfo, pyOnly, "A loop over a collection nested in a loop over the same collection: quadratic."},
	{"js-string-concat-in-loop", TypePerformance, SeverityInfo, jsTS, "A string grown with += inside a loop."},
	{"js-nested-loop-same-collection", TypePerformance, SeverityInfo, jsTS, "A loop over a collection nested in a loop over the same collection: quadratic."},
	{"js-sync-fs", TypePerformance, SeverityInfo, jsTS, "A synchronous fs call (readFileSync and friends), which blocks the event loop."},
	{"js-await-in-loop", TypePerformance, SeverityInfo, jsTS, "await inside a loop body, which runs the iterations one after another."},
}

var ruleIndex = func() map[string]int {
	m := make(map[string]int, len(rules))
	for i, r := range rules {
		m[r.ID] = i
	}
	return m
}()

// Rules returns every rule, sorted by type and id. The ids are stable: a
// client may filter or count findings by them.
func Rules() []Rule {
	out := make([]Rule, len(rules))
	copy(out, rules)
	for i := range out {
		out[i].Languages = append([]string(nil), out[i].Languages...)
	}
	order := map[string]int{typeAny: 0, TypeComplexity: 1, TypePatterns: 2, TypeSecurity: 3, TypePerformance: 4}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return order[out[i].Type] < order[out[j].Type]
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// ruleType is the analysis type that reports a rule.
func ruleType(id string) string {
	if i, ok := ruleIndex[id]; ok {
		return rules[i].Type
	}
	return ""
}
