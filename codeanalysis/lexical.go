package codeanalysis

// Over 500 lines, one concept: the language-neutral part of the lexical
// analysis (functions, loops, taint of values, the findings every lexical
// language shares) that python.go and javascript.go feed.

import (
	"fmt"
	"sort"
	"strings"
)

// The language-independent half of the lexical analysis: once the Python or
// JavaScript structure pass has found the functions, the control blocks and
// the loops of a file, everything below works on token indices alone.

// A lexFunc is a function found in the token stream.
type lexFunc struct {
	name       string
	start, end int // token indices, inclusive
	params     int
	line       int
	decisions  int
	nest       int
	nestLine   int
}

// A span is the body of a control statement, as token indices (inclusive;
// empty when first > last).
type span struct {
	kw          int // token index of the statement's keyword
	first, last int
	ctrl        bool // counts towards nesting
	loop        bool // its body runs repeatedly
}

// A lexLoop is a loop and, when it can be named, the collection it walks.
type lexLoop struct {
	kw       int // token index of the loop keyword (or forEach)
	span     int // index into spans
	coll     string
	forAwait bool
}

// taint records what is known of a variable's string value: the literal text
// assigned to it, and whether non-literal parts were mixed in.
type taint struct {
	line    int
	text    string
	dynamic bool
	how     string
}

// exprFacts describes an expression's string content.
type exprFacts struct {
	text    string // its string literals, joined by spaces
	dynamic bool   // concatenation, formatting or interpolation with non-literal parts
	ident   bool   // it mentions an identifier
	how     string // how it was built, for messages
}

type lexAnalysis struct {
	rep        *fileReport
	lf         *lexFile
	toks       []lexToken
	python     bool
	prefix     string // rule id prefix: "py" or "js"
	funcs      []lexFunc
	spans      []span
	loops      []lexLoop
	owner      []int            // innermost function of each token, or -1
	ctrlDepth  []int            // control blocks enclosing each token
	loopDepth  []int            // loop bodies enclosing each token
	forAwait   []bool           // tokens inside a for await loop (JavaScript)
	classBrace map[int]string   // the body brace of each class → its name (JavaScript)
	strVars    map[string]bool  // variables assigned a string literal
	taints     map[string]taint // what each variable's assignments built
	assignAt   map[string][]int // token indices of each variable's plain assignments
}

func newLexAnalysis(rep *fileReport, python bool) *lexAnalysis {
	lf := lex(rep.src, python)
	prefix := "js"
	if python {
		prefix = "py"
	}
	return &lexAnalysis{
		rep: rep, lf: lf, toks: lf.toks, python: python, prefix: prefix,
		classBrace: map[int]string{}, strVars: map[string]bool{}, taints: map[string]taint{}, assignAt: map[string][]int{},
	}
}

func (a *lexAnalysis) is(i int, p string) bool {
	return i >= 0 && i < len(a.toks) && a.toks[i].kind == tokPunct && a.toks[i].text == p
}

func (a *lexAnalysis) isIdent(i int, name string) bool {
	return i >= 0 && i < len(a.toks) && a.toks[i].kind == tokIdent && a.toks[i].text == name
}

func (a *lexAnalysis) ident(i int) bool {
	return i >= 0 && i < len(a.toks) && a.toks[i].kind == tokIdent
}

// afterDot reports whether token i is a member name (x.name), which is never
// a keyword.
func (a *lexAnalysis) afterDot(i int) bool {
	return a.is(i-1, ".") || a.is(i-1, "?.")
}

// closer returns the partner of the opener at i, or -1 when it has none
// usable.
func (a *lexAnalysis) closer(i int) int {
	if i < 0 || i >= len(a.toks) {
		return -1
	}
	m := a.lf.match[i]
	if m <= i {
		return -1
	}
	return m
}

// args splits the bracketed list opened at i into its top-level elements,
// as inclusive token ranges; empty elements are dropped.
func (a *lexAnalysis) args(open int) [][2]int {
	end := a.closer(open)
	if end < 0 {
		return nil
	}
	var out [][2]int
	first := open + 1
	for j := open + 1; j < end; j++ {
		if m := a.closer(j); m > 0 && isOpenBracket(a.toks[j]) {
			j = min(m, end-1)
			continue
		}
		if a.is(j, ",") {
			if j > first {
				out = append(out, [2]int{first, j - 1})
			}
			first = j + 1
		}
	}
	if end > first {
		out = append(out, [2]int{first, end - 1})
	}
	return out
}

func isOpenBracket(t lexToken) bool {
	return t.kind == tokPunct && (t.text == "(" || t.text == "[" || t.text == "{")
}

func isCloseBracket(t lexToken) bool {
	return t.kind == tokPunct && (t.text == ")" || t.text == "]" || t.text == "}")
}

// stmtScan bounds the tokens scanned to find the end of a statement: past
// it the end is approximate, which keeps hostile input linear.
const stmtScan = 150

// stmtEnd returns the last token of the statement or expression that starts
// at b. It ends before a ';' or ',' (',' only when expr is set), before a
// closing bracket that belongs to an enclosing construct, and at the end of a
// line that does not continue: the next logical line in Python, and in
// JavaScript a line break between two operands.
func (a *lexAnalysis) stmtEnd(b int, expr bool) int {
	n := len(a.toks)
	if b >= n {
		return n - 1
	}
	j := b
	for ; j < n && j < b+stmtScan; j++ {
		t := a.toks[j]
		if j > b && t.bol && (a.python || a.lineEnds(j-1, j)) {
			return j - 1
		}
		if isOpenBracket(t) {
			if m := a.closer(j); m > 0 {
				j = m
				if j+1 < n && a.toks[j+1].bol && !a.python && a.lineEnds(j, j+1) {
					return j
				}
			}
			continue
		}
		if isCloseBracket(t) || t.kind == tokPunct && (t.text == ";" || (expr && t.text == ",")) {
			return j - 1
		}
	}
	return min(j, n-1)
}

// lineEnds reports whether a JavaScript line break between tokens p and q
// ends a statement: both sides look like operands.
func (a *lexAnalysis) lineEnds(p, q int) bool {
	prev, next := a.toks[p], a.toks[q]
	switch next.kind {
	case tokIdent, tokNumber, tokString, tokRegexp:
	default:
		return false
	}
	if prev.kind == tokPunct {
		switch prev.text {
		case ")", "]", "}", "++", "--":
			return true
		}
		return false
	}
	return true
}

// literalWords are identifiers that are constants.
var literalWords = map[string]bool{
	"True": true, "False": true, "None": true, "true": true, "false": true,
	"null": true, "undefined": true, "NaN": true,
}

// tagged reports whether the template literal at j is tagged (sql`...`),
// which hands its parts to the tag separately: the usual safe form.
func (a *lexAnalysis) tagged(j int) bool {
	if !a.toks[j].tmpl || j == 0 {
		return false
	}
	p := a.toks[j-1]
	if p.kind == tokIdent {
		return !regexpKeywords[p.text] && p.text != "return"
	}
	return a.is(j-1, ")") || a.is(j-1, "]")
}

// exprInfo describes the string built by the tokens first..last.
func (a *lexAnalysis) exprInfo(first, last int) exprFacts {
	var f exprFacts
	var parts []string
	plus := false
	for j := first; j <= last && j < first+stmtScan && j < len(a.toks); j++ {
		t := a.toks[j]
		switch t.kind {
		case tokString:
			parts = append(parts, t.str)
			switch {
			case t.interp && !a.tagged(j):
				f.dynamic = true
				if t.tmpl {
					f.how = "a template literal"
				} else {
					f.how = "an f-string"
				}
			case a.python && a.is(j+1, "%"):
				f.dynamic, f.how = true, "% formatting"
			case a.is(j+1, ".") && (a.isIdent(j+2, "format") || a.isIdent(j+2, "concat")):
				f.dynamic, f.how = true, "."+a.toks[j+2].text+"()"
			}
		case tokIdent:
			if !literalWords[t.text] {
				f.ident = true
			}
		case tokPunct:
			if t.text == "+" {
				plus = true
			}
		}
	}
	if plus && f.ident && !f.dynamic {
		f.dynamic, f.how = true, "concatenation"
	}
	f.text = strings.Join(parts, " ")
	return f
}

// argFacts describes a call argument: an expression, or a lone variable
// whose assignments were tracked.
func (a *lexAnalysis) argFacts(seg [2]int) exprFacts {
	if seg[0] == seg[1] && a.ident(seg[0]) {
		if t, ok := a.taints[a.toks[seg[0]].text]; ok {
			how := fmt.Sprintf("%s (in %s, line %d)", t.how, a.toks[seg[0]].text, t.line)
			return exprFacts{text: t.text, dynamic: t.dynamic, ident: true, how: how}
		}
	}
	return a.exprInfo(seg[0], seg[1])
}

// commentBetween reports whether a comment lies between the tokens i and j:
// an empty block that holds one says why it is empty.
func (a *lexAnalysis) commentBetween(i, j int) bool {
	if i < 0 || j >= len(a.toks) || i >= j {
		return false
	}
	from, to := a.toks[i].off, a.toks[j].off
	cs := a.lf.comments
	k := sort.Search(len(cs), func(k int) bool { return cs[k].off > from })
	return k < len(cs) && cs[k].off < to
}

// collectAssignments records string variables (s = "") and what each
// variable's assignments built, for the sinks that receive a variable.
// Once a variable has been built dynamically it stays so: the order of
// statements is not followed.
func (a *lexAnalysis) collectAssignments() {
	for i := 1; i < len(a.toks); i++ {
		if !(a.is(i, "=") || a.is(i, "+=")) || !a.ident(i-1) || a.afterDot(i-1) {
			continue
		}
		name := a.toks[i-1].text
		end := a.stmtEnd(i+1, false)
		if end <= i {
			continue
		}
		f := a.exprInfo(i+1, end)
		if a.toks[i].text == "=" {
			a.assignAt[name] = append(a.assignAt[name], i)
			if end == i+1 && a.toks[i+1].kind == tokString {
				a.strVars[name] = true
			}
			if old, ok := a.taints[name]; ok && old.dynamic && !f.dynamic {
				continue
			}
			a.taints[name] = taint{line: a.toks[i].line, text: f.text, dynamic: f.dynamic, how: f.how}
			continue
		}
		old := a.taints[name]
		t := taint{line: old.line, text: strings.TrimSpace(old.text + " " + f.text), dynamic: old.dynamic || f.dynamic || f.ident, how: old.how}
		if t.dynamic && !old.dynamic {
			t.line, t.how = a.toks[i].line, "concatenation"
		}
		a.taints[name] = t
	}
}

// resolve works out, from the functions and spans found, which function owns
// each token, how deep each token is nested, and each function's metrics;
// then it reports the function-shape findings.
func (a *lexAnalysis) resolve(decision func(i int) bool) {
	n := len(a.toks)
	sort.SliceStable(a.funcs, func(i, j int) bool {
		if a.funcs[i].start != a.funcs[j].start {
			return a.funcs[i].start < a.funcs[j].start
		}
		return a.funcs[i].end > a.funcs[j].end
	})
	a.owner = make([]int, n)
	var stack []int
	fi := 0
	for i := 0; i < n; i++ {
		for len(stack) > 0 && a.funcs[stack[len(stack)-1]].end < i {
			stack = stack[:len(stack)-1]
		}
		for fi < len(a.funcs) && a.funcs[fi].start <= i {
			if a.funcs[fi].end >= i {
				stack = append(stack, fi)
			}
			fi++
		}
		a.owner[i] = -1
		if len(stack) > 0 {
			a.owner[i] = stack[len(stack)-1]
		}
	}
	ctrl := make([]int, n+1)
	loop := make([]int, n+1)
	for _, s := range a.spans {
		if s.first < 0 || s.first > s.last || s.last >= n {
			continue
		}
		if s.ctrl {
			ctrl[s.first]++
			ctrl[s.last+1]--
		}
		if s.loop {
			loop[s.first]++
			loop[s.last+1]--
		}
	}
	a.ctrlDepth, a.loopDepth = make([]int, n), make([]int, n)
	c, l := 0, 0
	for i := 0; i < n; i++ {
		c += ctrl[i]
		l += loop[i]
		a.ctrlDepth[i], a.loopDepth[i] = c, l
	}
	for i := 0; i < n; i++ {
		if o := a.owner[i]; o >= 0 && decision(i) {
			a.funcs[o].decisions++
		}
	}
	// A control statement's body is one level deeper than its keyword; an
	// empty body counts, as it does for Go.
	for _, s := range a.spans {
		if !s.ctrl || s.kw < 0 || s.kw >= n || a.owner[s.kw] < 0 {
			continue
		}
		f := &a.funcs[a.owner[s.kw]]
		if d := a.ctrlDepth[s.kw] + 1 - a.ctrlDepth[f.start]; d > f.nest {
			f.nest, f.nestLine = d, a.toks[s.kw].line
		}
	}
	for _, f := range a.funcs {
		endLine := f.line
		if f.end >= 0 && f.end < n {
			endLine = max(endLine, a.toks[f.end].endLine)
		}
		fn := Function{Name: f.name, Line: f.line, Cyclomatic: 1 + f.decisions, Lines: endLine - f.line + 1, MaxNesting: f.nest, Params: f.params}
		a.rep.function(fn)
		shapeFindings(a.rep, a.prefix, fn, f.nestLine)
	}
}

// inLoop reports whether token i runs repeatedly within its own function.
func (a *lexAnalysis) inLoop(i int) bool {
	base := 0
	if o := a.owner[i]; o >= 0 {
		base = a.loopDepth[a.funcs[o].start]
	}
	return a.loopDepth[i] > base
}

// nestedLoops reports a loop over a collection inside a loop over the same
// collection.
func (a *lexAnalysis) nestedLoops() {
	var stack []int
	for li, lp := range a.loops {
		for len(stack) > 0 && a.spans[a.loops[stack[len(stack)-1]].span].last < lp.kw {
			stack = stack[:len(stack)-1]
		}
		if lp.coll != "" {
			// Look a few levels up only: deeper nests are rare and the bound
			// keeps the check linear.
			for k := len(stack) - 1; k >= 0 && k >= len(stack)-8; k-- {
				outer := a.loops[stack[k]]
				os := a.spans[outer.span]
				if outer.coll == lp.coll && os.first <= lp.kw && lp.kw <= os.last {
					t := a.toks[lp.kw]
					a.rep.add(t.line, t.col, a.prefix+"-nested-loop-same-collection", SeverityInfo,
						fmt.Sprintf("loop over %s inside a loop over %s (line %d): quadratic; index it in a map or set first", lp.coll, lp.coll, a.toks[outer.kw].line))
					break
				}
			}
		}
		if s := a.spans[lp.span]; s.first <= s.last {
			stack = append(stack, li)
		}
	}
}

// stringConcatInLoop reports s += ... inside a loop, when s holds a string.
func (a *lexAnalysis) stringConcatInLoop() {
	sev, advice := SeverityWarning, "collect the parts in a list and ''.join() them"
	if !a.python {
		sev, advice = SeverityInfo, "engines optimise this, but in hot loops collect the parts in an array and join() them"
	}
	for i := 1; i < len(a.toks); i++ {
		if !a.is(i, "+=") || !a.ident(i-1) || !a.inLoop(i) {
			continue
		}
		name := a.toks[i-1].text
		stringy := a.strVars[name]
		end := a.stmtEnd(i+1, false)
		for j := i + 1; !stringy && j <= end && j < i+100; j++ {
			t := a.toks[j]
			switch {
			case t.kind == tokPunct && (t.text == "[" || t.text == "{"):
				if m := a.closer(j); m > 0 {
					j = m // a list or object literal: its strings are elements
				}
			case t.kind == tokString:
				stringy = true
			case t.kind == tokIdent && (t.text == "str" || t.text == "String") && a.is(j+1, "("):
				stringy = true
			case t.kind == tokIdent && a.afterDot(j) && (t.text == "toString" || t.text == "join"):
				stringy = true
			}
		}
		if stringy && !a.resetInLoop(name, i) {
			t := a.toks[i-1]
			a.rep.add(t.line, t.col, a.prefix+"-string-concat-in-loop", sev,
				fmt.Sprintf("string %s grown with += inside a loop copies it every time; %s", name, advice))
		}
	}
}

// resetInLoop reports whether the last assignment of name before token i is
// inside the same loop: the string then starts afresh on every iteration.
func (a *lexAnalysis) resetInLoop(name string, i int) bool {
	at := a.assignAt[name]
	k := sort.SearchInts(at, i) - 1
	return k >= 0 && a.loopDepth[at[k]] >= a.loopDepth[i]
}

// stringSecrets reports string literals assigned to sensitive names: name =
// "...", name: "...", "name": "...", obj["name"] = "...", name == "...".
func (a *lexAnalysis) stringSecrets() {
	for i, t := range a.toks {
		if t.kind != tokString || t.interp || i < 2 {
			continue
		}
		op := a.toks[i-1]
		if op.kind != tokPunct {
			continue
		}
		switch op.text {
		case "=", ":", ":=", "==", "===", "!=", "!==":
		default:
			continue
		}
		name := ""
		k := i - 2
		switch {
		case a.ident(k):
			name = a.toks[k].text
			// TypeScript: const token: string = "..."
			if op.text == "=" && a.is(k-1, ":") && a.ident(k-2) {
				name = a.toks[k-2].text
			}
		case a.toks[k].kind == tokString:
			name = a.toks[k].str
		case a.is(k, "]") && k >= 2 && a.toks[k-1].kind == tokString && a.is(k-2, "["):
			name = a.toks[k-1].str
		}
		if secret, ok := hardcodedSecret(name, t.str); ok && name != "" {
			a.rep.secrets = append(a.rep.secrets, secret)
			a.rep.add(t.line, t.col, "secret-hardcoded", SeverityError, fmt.Sprintf(hardcodedMessage, name))
		}
	}
}

func (a *lexAnalysis) commonRules() {
	for _, c := range a.lf.comments {
		todoComments(a.rep, c.line, c.col, c.text)
	}
	a.stringSecrets()
	a.stringConcatInLoop()
	a.nestedLoops()
}

// collText names the collection a loop walks, from its tokens, or "" when it
// is too long to be a plain name.
func (a *lexAnalysis) collText(first, last int) string {
	if first > last || last-first > 30 || last >= len(a.toks) {
		return ""
	}
	var b strings.Builder
	for j := first; j <= last; j++ {
		t := a.toks[j]
		if t.kind == tokString || t.kind == tokRegexp {
			return ""
		}
		b.WriteString(t.text)
	}
	s := b.String()
	for _, w := range []string{"enumerate(", "range(len(", "Object.keys(", "Object.values(", "Object.entries(", "sorted(", "reversed("} {
		if strings.HasPrefix(s, w) {
			s = strings.TrimRight(strings.TrimPrefix(s, w), ")")
		}
	}
	return s
}

// sqlSink checks a call that runs SQL: the query, its first argument, must
// not be built from values.
func (a *lexAnalysis) sqlSink(i int) {
	args := a.args(i + 1)
	if len(args) == 0 {
		return
	}
	f := a.argFacts(args[0])
	if !f.dynamic || !sqlLike(f.text) {
		return
	}
	t := a.toks[i]
	a.rep.add(t.line, t.col, a.prefix+"-sql-injection", SeverityError,
		fmt.Sprintf("SQL built by %s is passed to %s(); use placeholders and pass the values as parameters", f.how, t.text))
}
