package codeanalysis

// Over 500 lines, one concept: the JavaScript/TypeScript front end of the
// lexical analysis — its structure (functions, classes, methods, arrow
// functions, parameters) read from one token stream. Its parts share the
// token cursor and are read together.

import (
	"fmt"
	"strings"
)

// analyzeJS analyses a JavaScript or TypeScript file lexically. Functions
// are function declarations and expressions, arrow functions and methods;
// their extent is found by brace matching (or, for an arrow with an
// expression body, by the end of the expression).
func analyzeJS(path, lang string, src []byte) *fileReport {
	rep := newFileReport(path, lang, src)
	a := newLexAnalysis(rep, false)
	a.jsStructure()
	a.resolve(a.jsDecision)
	a.collectAssignments()
	a.jsRules()
	a.commonRules()
	rep.scanSecretTokens()
	rep.finish()
	return rep
}

// jsReserved are the words that cannot name a method definition.
var jsReserved = map[string]bool{
	"if": true, "for": true, "while": true, "switch": true, "catch": true, "with": true,
	"function": true, "return": true, "typeof": true, "instanceof": true, "new": true,
	"delete": true, "void": true, "await": true, "yield": true, "super": true,
	"import": true, "export": true, "class": true, "const": true, "let": true,
	"var": true, "do": true, "else": true, "try": true, "finally": true, "throw": true,
	"case": true, "default": true, "in": true, "of": true, "this": true,
	"extends": true, "break": true, "continue": true, "debugger": true,
}

// jsModifiers may stand before a method name.
var jsModifiers = map[string]bool{
	"async": true, "static": true, "get": true, "set": true, "public": true,
	"private": true, "protected": true, "readonly": true, "override": true,
	"abstract": true, "declare": true,
}

const anonymous = "<anonymous>"

func (a *lexAnalysis) jsStructure() {
	for i := range a.toks {
		if a.isIdent(i, "class") && !a.afterDot(i) {
			a.jsClass(i)
		}
	}
	for i, t := range a.toks {
		switch {
		case t.kind == tokIdent && t.text == "function" && !a.afterDot(i):
			a.jsFunction(i)
		case t.kind == tokPunct && t.text == "=>":
			a.jsArrow(i)
		case t.kind == tokIdent && !jsReserved[t.text] && a.is(i+1, "("):
			a.jsMethod(i)
		}
		if t.kind == tokIdent && !a.afterDot(i) {
			a.jsControl(i)
		}
		if t.kind == tokIdent && a.afterDot(i) && (t.text == "forEach" || t.text == "map") && a.is(i+1, "(") {
			a.jsForEach(i)
		}
	}
}

// jsClass records the body brace of a class, for naming its methods.
func (a *lexAnalysis) jsClass(i int) {
	name := ""
	if a.ident(i+1) && a.toks[i+1].text != "extends" && a.toks[i+1].text != "implements" {
		name = a.toks[i+1].text
	} else if a.is(i-1, "=") && a.ident(i-2) {
		name = a.toks[i-2].text
	}
	for j := i + 1; j < len(a.toks) && j < i+60; j++ {
		switch {
		case a.is(j, "{"):
			if name == "" {
				name = "<class>"
			}
			a.classBrace[j] = name
			return
		case a.is(j, "(") || a.is(j, "["):
			if m := a.closer(j); m > 0 {
				j = m
			}
		case a.is(j, ";") || a.is(j, "}") || a.is(j, ")"):
			return
		}
	}
}

// qualify prefixes a member name with its class, when token k (the name)
// sits directly in a class body.
func (a *lexAnalysis) qualify(k int, name string) string {
	if k >= 0 && k < len(a.toks) {
		if cls, ok := a.classBrace[a.lf.parent[k]]; ok {
			return cls + "." + name
		}
	}
	return name
}

// bodyAfter returns the '{' that opens a body right after a parameter list
// closing at close, skipping a TypeScript return type; -1 when there is none.
func (a *lexAnalysis) bodyAfter(close int) int {
	k := close + 1
	if a.is(k, "{") {
		return k
	}
	if !a.is(k, ":") {
		return -1
	}
	for j := k + 1; j < len(a.toks) && j < k+40; j++ {
		t := a.toks[j]
		if t.kind != tokPunct {
			continue
		}
		switch t.text {
		case "{":
			return j
		case "(", "[":
			if m := a.closer(j); m > 0 {
				j = m
			}
		case ";", "=>", "=", ",", ")", "}", "]":
			return -1
		}
	}
	return -1
}

// inferName names an anonymous function from what it is assigned to:
// const f = ..., key: ..., this.f = ..., "key": ....
func (a *lexAnalysis) inferName(start int) string {
	p := start - 1
	if !(a.is(p, "=") || a.is(p, ":")) {
		return anonymous
	}
	q := p - 1
	switch {
	case a.ident(q):
		name := a.toks[q].text
		// const f: Handler = () => ...
		if a.is(p, "=") && a.is(q-1, ":") && a.ident(q-2) {
			return a.qualify(q-2, a.toks[q-2].text)
		}
		if a.is(p, ":") && (a.is(q-1, "?") || a.isIdent(q-1, "case")) {
			return anonymous // the else branch of a conditional, or a case label
		}
		return a.qualify(q, name)
	case q >= 0 && a.toks[q].kind == tokString && a.is(p, ":"):
		return a.toks[q].str
	}
	return anonymous
}

func (a *lexAnalysis) addFunc(name string, start, end, params int) {
	if end < start {
		end = start
	}
	a.funcs = append(a.funcs, lexFunc{name: name, start: start, end: end, params: params, line: a.toks[start].line})
}

// jsParams counts the parameters in the list opened at open; a TypeScript
// "this" parameter is not one.
func (a *lexAnalysis) jsParams(open int) int {
	n := 0
	for _, seg := range a.args(open) {
		if a.isIdent(seg[0], "this") && a.is(seg[0]+1, ":") {
			continue
		}
		n++
	}
	return n
}

// jsFunction handles the function keyword at i.
func (a *lexAnalysis) jsFunction(i int) {
	j := i + 1
	if a.is(j, "*") {
		j++
	}
	name := ""
	if a.ident(j) {
		name = a.toks[j].text
		j++
	}
	if !a.is(j, "(") {
		return
	}
	close := a.closer(j)
	if close < 0 {
		return
	}
	body := a.bodyAfter(close)
	if body < 0 {
		return
	}
	end := a.closer(body)
	if end < 0 {
		end = body
	}
	start := i
	if a.isIdent(i-1, "async") {
		start = i - 1
	}
	if name == "" {
		name = a.inferName(start)
	}
	a.addFunc(name, start, end, a.jsParams(j))
}

// jsArrow handles the => at k.
func (a *lexAnalysis) jsArrow(k int) {
	start, params := -1, 0
	close := -1
	if a.is(k-1, ")") {
		close = k - 1
	} else if close = a.annotatedParams(k); close < 0 && a.ident(k-1) {
		start, params = k-1, 1
	}
	if close >= 0 {
		open := a.lf.match[close]
		if open < 0 || open >= close {
			return
		}
		start, params = open, a.jsParams(open)
	}
	if start < 0 || k+1 >= len(a.toks) {
		return
	}
	// A generic arrow, <T,>(x: T) => ..., starts at its type parameters.
	if a.is(start-1, ">") {
		for j := start - 2; j >= 0 && j > start-20; j-- {
			if a.is(j, "<") {
				start = j
				break
			}
		}
	}
	if a.isIdent(start-1, "async") {
		start--
	}
	var end int
	if a.is(k+1, "{") {
		end = a.closer(k + 1)
		if end < 0 {
			end = k + 1
		}
	} else {
		end = a.stmtEnd(k+1, true)
	}
	a.addFunc(a.inferName(start), start, end, params)
}

// annotatedParams finds the parameter list of an arrow function with a
// TypeScript return type, (a: A): R => ..., looking back from the arrow at
// k; -1 when there is none.
func (a *lexAnalysis) annotatedParams(k int) int {
	for j := k - 1; j >= 0 && j > k-60; j-- {
		t := a.toks[j]
		if t.kind != tokPunct {
			continue
		}
		switch t.text {
		case ")", "]":
			if t.text == ")" && a.is(j+1, ":") {
				return j
			}
			o := a.lf.match[j]
			if o < 0 || o >= j {
				return -1
			}
			j = o // skip the group; the loop steps past its opener
		case "=>", ";", "{", "}", "=", ",", "?", "(", "[":
			return -1
		}
	}
	return -1
}

// jsMethod handles name(...) { at i: a method definition when the name
// starts a class or object member.
func (a *lexAnalysis) jsMethod(i int) {
	close := a.closer(i + 1)
	if close < 0 {
		return
	}
	body := a.bodyAfter(close)
	if body < 0 {
		return
	}
	p := i - 1
	member := p < 0 || a.toks[i].bol || a.is(p, "{") || a.is(p, "}") || a.is(p, ";") ||
		a.is(p, ",") || a.is(p, "*") || (a.ident(p) && jsModifiers[a.toks[p].text])
	if !member {
		return
	}
	end := a.closer(body)
	if end < 0 {
		end = body
	}
	a.addFunc(a.qualify(i, a.toks[i].text), i, end, a.jsParams(i+1))
}

// stmtBody returns the body of a control statement starting at b: a braced
// block, or a single statement.
func (a *lexAnalysis) stmtBody(b int) (first, last int, braced bool) {
	if b >= len(a.toks) {
		return b, b - 1, false
	}
	if a.is(b, "{") {
		m := a.closer(b)
		if m < 0 {
			return b + 1, len(a.toks) - 1, true
		}
		return b + 1, m - 1, true
	}
	end := a.stmtEnd(b, false)
	if a.is(end+1, ";") {
		end++
	}
	return b, end, false
}

// jsControl records the body of the control statement whose keyword is at i.
func (a *lexAnalysis) jsControl(i int) {
	t := a.toks[i]
	switch t.text {
	case "if", "for", "while", "switch", "catch", "with":
		j := i + 1
		forAwait := false
		if t.text == "for" && a.isIdent(j, "await") {
			j, forAwait = j+1, true
		}
		if t.text == "catch" && a.is(j, "{") { // catch without a binding
			a.jsCatchBody(i, j)
			return
		}
		if !a.is(j, "(") {
			return
		}
		close := a.closer(j)
		if close < 0 {
			return
		}
		// The while of do { } while (x) has no body of its own.
		if t.text == "while" && a.is(i-1, "}") {
			if o := a.lf.match[i-1]; o > 0 && a.isIdent(o-1, "do") {
				return
			}
		}
		if t.text == "catch" {
			a.jsCatchBody(i, close+1)
			return
		}
		first, last, _ := a.stmtBody(close + 1)
		loop := t.text == "for" || t.text == "while"
		si := len(a.spans)
		a.spans = append(a.spans, span{kw: i, first: first, last: last, ctrl: true, loop: loop})
		if loop {
			a.loops = append(a.loops, lexLoop{kw: i, span: si, coll: a.jsLoopColl(t.text, j, close), forAwait: forAwait})
		}
	case "else", "try", "finally", "do":
		if t.text == "else" && a.isIdent(i+1, "if") {
			return // the if is the block
		}
		first, last, _ := a.stmtBody(i + 1)
		si := len(a.spans)
		a.spans = append(a.spans, span{kw: i, first: first, last: last, ctrl: true, loop: t.text == "do"})
		if t.text == "do" {
			a.loops = append(a.loops, lexLoop{kw: i, span: si})
		}
	}
}

// jsCatchBody records a catch block and reports it when it is empty, unless
// a comment in it says why.
func (a *lexAnalysis) jsCatchBody(i, b int) {
	first, last, braced := a.stmtBody(b)
	a.spans = append(a.spans, span{kw: i, first: first, last: last, ctrl: true})
	if braced && first > last && !a.commentBetween(b, first) {
		t := a.toks[i]
		a.rep.add(t.line, t.col, "js-empty-catch", SeverityWarning, "empty catch block swallows the error; log it, handle it or rethrow")
	}
}

// jsForEach records the callback of items.forEach(...) as a loop body, for
// the nested-loop check.
func (a *lexAnalysis) jsForEach(i int) {
	close := a.closer(i + 1)
	if close < 0 {
		return
	}
	// The collection is the member chain before ".forEach".
	first := i - 1
	for j := i - 2; j >= 0 && j > i-20; j-- {
		if a.ident(j) && (a.is(j+1, ".") || a.is(j+1, "?.")) {
			first = j
			if a.is(j-1, ".") || a.is(j-1, "?.") {
				j--
				continue
			}
		}
		break
	}
	coll := ""
	if first < i-1 {
		coll = a.collText(first, i-2)
	}
	si := len(a.spans)
	a.spans = append(a.spans, span{kw: i, first: i + 2, last: close - 1, loop: true})
	a.loops = append(a.loops, lexLoop{kw: i, span: si, coll: coll})
}

// jsLoopColl names what a for loop walks: the right of of/in, or X in a
// classic i < X.length.
func (a *lexAnalysis) jsLoopColl(kw string, open, close int) string {
	if kw != "for" {
		return ""
	}
	for j := open + 1; j < close; j++ {
		if a.lf.parent[j] != open {
			continue
		}
		if a.isIdent(j, "of") || a.isIdent(j, "in") {
			return a.collText(j+1, close-1)
		}
	}
	for j := open + 1; j < close; j++ {
		if a.lf.parent[j] == open && (a.is(j, "<") || a.is(j, "<=")) {
			for k := j + 1; k+1 < close && k < j+20; k++ {
				if a.is(k, ".") && a.isIdent(k+1, "length") {
					return a.collText(j+1, k-1)
				}
			}
		}
	}
	return ""
}

// jsDecision reports whether token i is a decision point.
func (a *lexAnalysis) jsDecision(i int) bool {
	t := a.toks[i]
	switch t.kind {
	case tokIdent:
		if a.afterDot(i) {
			return false
		}
		switch t.text {
		case "if", "for", "while", "catch":
			return !a.is(i+1, ":") // not an object key or label
		case "case":
			return true
		}
	case tokPunct:
		switch t.text {
		case "&&", "||", "??", "&&=", "||=", "??=":
			return true
		case "?":
			// Not a TypeScript optional marker (a?: T, (a?) =>).
			return !(a.is(i+1, ":") || a.is(i+1, ")") || a.is(i+1, ",") || a.is(i+1, "=") || a.is(i+1, ";"))
		}
	}
	return false
}

var jsSyncFS = map[string]bool{
	"readFileSync": true, "writeFileSync": true, "appendFileSync": true, "existsSync": true,
	"readdirSync": true, "statSync": true, "lstatSync": true, "mkdirSync": true, "rmSync": true,
	"rmdirSync": true, "unlinkSync": true, "copyFileSync": true, "renameSync": true,
	"accessSync": true, "openSync": true, "readSync": true, "writeSync": true,
	"realpathSync": true, "readlinkSync": true, "chmodSync": true, "fstatSync": true,
}

var jsSQLSinks = map[string]bool{
	"query": true, "execute": true, "raw": true, "exec": true, "run": true, "all": true,
	"get": true, "prepare": true, "unsafe": true, "$queryRawUnsafe": true, "$executeRawUnsafe": true,
}

// jsImports records the modules of import and export ... from statements,
// side-effect imports, require() and import().
func (a *lexAnalysis) jsImports() {
	for i, t := range a.toks {
		if t.kind != tokString || t.tmpl || i == 0 {
			continue
		}
		switch {
		case a.isIdent(i-1, "from"), a.isIdent(i-1, "import") && !a.afterDot(i-1):
		case a.is(i-1, "(") && a.is(i+1, ")") && (a.isIdent(i-2, "require") || a.isIdent(i-2, "import")) && !a.afterDot(i-2):
		default:
			continue
		}
		a.rep.imports = append(a.rep.imports, t.str)
	}
}

func (a *lexAnalysis) jsRules() {
	a.jsImports()
	a.markForAwait()
	childProcess := false
	for _, t := range a.toks {
		if t.kind == tokString && (t.str == "child_process" || t.str == "node:child_process") {
			childProcess = true
			break
		}
	}
	for i, t := range a.toks {
		if t.kind != tokIdent {
			continue
		}
		if t.text == "await" && !a.afterDot(i) && a.inLoop(i) && !a.forAwait[i] {
			a.rep.add(t.line, t.col, "js-await-in-loop", SeverityInfo, "await inside a loop runs the iterations one after another; if they are independent, start them all and await Promise.all")
		}
		if !a.is(i+1, "(") {
			continue
		}
		switch {
		case t.text == "eval" && !a.afterDot(i):
			a.jsEval(i, "eval()")
		case t.text == "Function" && a.isIdent(i-1, "new"):
			a.jsEval(i, "new Function()")
		case (t.text == "setTimeout" || t.text == "setInterval") && !a.afterDot(i):
			if args := a.args(i + 1); len(args) > 0 && a.toks[args[0][0]].kind == tokString {
				a.jsEval(i, t.text+"() with a string")
			}
		case t.text == "createHash":
			if args := a.args(i + 1); len(args) > 0 && a.toks[args[0][0]].kind == tokString {
				if alg := strings.ToLower(a.toks[args[0][0]].str); alg == "md5" || alg == "sha1" || alg == "md4" {
					a.rep.add(t.line, t.col, "js-weak-hash", SeverityWarning, weakHashMessage("createHash('"+alg+"')"))
				}
			}
		case jsSyncFS[t.text]:
			a.rep.add(t.line, t.col, "js-sync-fs", SeverityInfo, t.text+" blocks the event loop; in a server or a hot path use the fs/promises version")
		case childProcess && (t.text == "exec" || t.text == "execSync"):
			a.jsShell(i)
		}
		if jsSQLSinks[t.text] && a.afterDot(i) {
			a.sqlSink(i)
		}
	}
}

// markForAwait marks the tokens inside for await loops, where awaiting is
// the point.
func (a *lexAnalysis) markForAwait() {
	diff := make([]int, len(a.toks)+1)
	for _, lp := range a.loops {
		if s := a.spans[lp.span]; lp.forAwait && s.first >= 0 && s.first <= s.last && s.last < len(a.toks) {
			diff[s.first]++
			diff[s.last+1]--
		}
	}
	a.forAwait = make([]bool, len(a.toks))
	d := 0
	for i := range a.toks {
		d += diff[i]
		a.forAwait[i] = d > 0
	}
}

func (a *lexAnalysis) jsEval(i int, what string) {
	t := a.toks[i]
	sev, msg := SeverityWarning, what+" runs arbitrary code; parse the data instead (JSON.parse) or pass a function"
	if args := a.args(i + 1); len(args) > 0 {
		if f := a.argFacts(args[0]); f.dynamic {
			sev, msg = SeverityError, fmt.Sprintf("%s runs code built by %s; never evaluate input", what, f.how)
		}
	}
	a.rep.add(t.line, t.col, "js-eval", sev, msg)
}

func (a *lexAnalysis) jsShell(i int) {
	args := a.args(i + 1)
	if len(args) == 0 {
		return
	}
	f := a.argFacts(args[0])
	if !f.dynamic {
		return
	}
	t := a.toks[i]
	a.rep.add(t.line, t.col, "js-shell-injection", SeverityError,
		fmt.Sprintf("%s runs a shell command built by %s; use execFile or spawn with an argument array", t.text, f.how))
}
