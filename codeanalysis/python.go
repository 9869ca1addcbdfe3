package codeanalysis

import (
	"fmt"
	"sort"
	"strings"
)

// analyzePython analyses a Python file lexically. Blocks are found from
// indentation: a header line ending in ':' opens a block that runs while the
// following logical lines are indented deeper.
func analyzePython(path string, src []byte) *fileReport {
	rep := newFileReport(path, langPython, src)
	a := newLexAnalysis(rep, true)
	a.pythonStructure()
	a.resolve(a.pythonDecision)
	a.collectAssignments()
	a.pythonRules()
	a.commonRules()
	rep.scanSecretTokens()
	rep.finish()
	return rep
}

// pyBlock is an open indented block while the structure pass runs.
type pyBlock struct {
	indent int
	kind   byte // 'd' def, 'c' class, 's' control span
	idx    int  // into funcs or spans
	name   string
}

func (a *lexAnalysis) pythonStructure() {
	n := len(a.toks)
	var starts []int
	for i, t := range a.toks {
		if t.bol {
			starts = append(starts, i)
		}
	}
	var stack []pyBlock
	closeBlock := func(b pyBlock, last int) {
		switch b.kind {
		case 'd':
			a.funcs[b.idx].end = max(last, a.funcs[b.idx].start)
		case 's':
			a.spans[b.idx].last = last
		}
	}
	prevEnd := -1
	for li, b := range starts {
		e := n - 1
		if li+1 < len(starts) {
			e = starts[li+1] - 1
		}
		d := a.toks[b].indent
		for len(stack) > 0 && stack[len(stack)-1].indent >= d {
			closeBlock(stack[len(stack)-1], prevEnd)
			stack = stack[:len(stack)-1]
		}
		if blk, ok := a.pythonLine(starts, li, b, e, stack); ok {
			stack = append(stack, blk)
		}
		prevEnd = e
	}
	for len(stack) > 0 {
		closeBlock(stack[len(stack)-1], n-1)
		stack = stack[:len(stack)-1]
	}
}

// pythonLine handles one logical line (tokens b..e) and returns the block it
// opens, if any.
func (a *lexAnalysis) pythonLine(starts []int, li, b, e int, stack []pyBlock) (pyBlock, bool) {
	d := a.toks[b].indent
	k := b
	if a.isIdent(k, "async") && k < e {
		k++
	}
	if !a.ident(k) {
		return pyBlock{}, false
	}
	kw := a.toks[k].text
	switch kw {
	case "def":
		if k+1 > e || !a.ident(k+1) {
			return pyBlock{}, false
		}
		colon := a.headerColon(k, e)
		if colon < 0 {
			return pyBlock{}, false
		}
		name := a.toks[k+1].text
		// A method is named after its class: the nearest enclosing block
		// that is a def or a class decides.
		for s := len(stack) - 1; s >= 0; s-- {
			if stack[s].kind == 'c' {
				name = stack[s].name + "." + name
				break
			}
			if stack[s].kind == 'd' {
				break
			}
		}
		params := 0
		if a.is(k+2, "(") {
			params = a.pythonParams(k+2, name)
		}
		fi := len(a.funcs)
		a.funcs = append(a.funcs, lexFunc{name: name, start: b, end: e, params: params, line: a.toks[b].line})
		if colon == e {
			return pyBlock{indent: d, kind: 'd', idx: fi}, true
		}
	case "class":
		colon := a.headerColon(k, e)
		if colon == e && a.ident(k+1) {
			return pyBlock{indent: d, kind: 'c', name: a.toks[k+1].text}, true
		}
	case "if", "elif", "else", "for", "while", "try", "except", "finally", "with", "match":
		colon := a.headerColon(k, e)
		if colon < 0 || (kw == "match" && colon != e) {
			return pyBlock{}, false
		}
		si := len(a.spans)
		a.spans = append(a.spans, span{kw: k, first: colon + 1, last: e, ctrl: true, loop: kw == "for" || kw == "while"})
		if kw == "for" {
			a.loops = append(a.loops, lexLoop{kw: k, span: si, coll: a.pythonLoopColl(k, colon)})
		}
		if kw == "except" {
			a.pythonExcept(starts, li, k, colon, e)
		}
		if colon == e {
			return pyBlock{indent: d, kind: 's', idx: si}, true
		}
	case "import", "from":
		a.pythonImport(k, e)
	}
	return pyBlock{}, false
}

// headerColon finds the ':' that ends a block header (tokens k..e), skipping
// brackets and lambdas; -1 when there is none.
func (a *lexAnalysis) headerColon(k, e int) int {
	lambdas := 0
	for j := k + 1; j <= e; j++ {
		t := a.toks[j]
		if isOpenBracket(t) {
			m := a.closer(j)
			if m < 0 || m > e {
				return -1
			}
			j = m
			continue
		}
		if a.isIdent(j, "lambda") {
			lambdas++
		}
		if a.is(j, ":") {
			if lambdas > 0 {
				lambdas--
				continue
			}
			return j
		}
	}
	return -1
}

// pythonParams counts the parameters in the list opened at open (self and
// cls, and the bare * and / markers, not counted) and reports mutable
// defaults.
func (a *lexAnalysis) pythonParams(open int, fname string) int {
	count := 0
	for si, seg := range a.args(open) {
		first := a.toks[seg[0]]
		if seg[0] == seg[1] && first.kind == tokPunct && (first.text == "*" || first.text == "/") {
			continue
		}
		if si == 0 && (first.text == "self" || first.text == "cls") {
			continue
		}
		count++
		for j := seg[0]; j <= seg[1]; j++ {
			if isOpenBracket(a.toks[j]) {
				if m := a.closer(j); m > 0 {
					j = m
				}
				continue
			}
			if !a.is(j, "=") || j+1 > seg[1] {
				continue
			}
			v := a.toks[j+1]
			mutable := a.is(j+1, "[") || a.is(j+1, "{") ||
				(v.kind == tokIdent && (v.text == "list" || v.text == "dict" || v.text == "set") && a.is(j+2, "("))
			if mutable {
				a.rep.add(v.line, v.col, "py-mutable-default", SeverityWarning,
					fmt.Sprintf("mutable default argument %s in %s is created once and shared by every call; default to None and create it inside", first.text, fname))
			}
			break
		}
	}
	return count
}

// pythonLoopColl names what "for x in <coll>:" walks.
func (a *lexAnalysis) pythonLoopColl(k, colon int) string {
	for j := k + 1; j < colon; j++ {
		if isOpenBracket(a.toks[j]) {
			if m := a.closer(j); m > 0 {
				j = m
			}
			continue
		}
		if a.isIdent(j, "in") {
			return a.collText(j+1, colon-1)
		}
	}
	return ""
}

// pythonExcept reports a bare except, and an except block that does
// nothing, unless a comment on its lines says why.
func (a *lexAnalysis) pythonExcept(starts []int, li, k, colon, e int) {
	t := a.toks[k]
	if colon == k+1 {
		a.rep.add(t.line, t.col, "py-bare-except", SeverityWarning, "bare except: also catches KeyboardInterrupt and SystemExit; catch Exception or something narrower")
	}
	isPass := func(i int) bool { return a.isIdent(i, "pass") || a.is(i, "...") }
	swallowed, body := false, e
	if colon < e {
		swallowed = colon+1 == e && isPass(e)
	} else if li+1 < len(starts) {
		d := a.toks[starts[li]].indent
		b2 := starts[li+1]
		e2 := len(a.toks) - 1
		if li+2 < len(starts) {
			e2 = starts[li+2] - 1
		}
		next := li+2 >= len(starts) || a.toks[starts[li+2]].indent <= d
		swallowed = a.toks[b2].indent > d && b2 == e2 && isPass(b2) && next
		body = b2
	}
	if swallowed && !a.commentedLines(a.toks[k].line, a.toks[body].line) {
		a.rep.add(t.line, t.col, "py-swallowed-exception", SeverityWarning, "exception swallowed: the except block only passes; log it, handle it or let it propagate")
	}
}

// commentedLines reports whether a comment starts on a line from first to
// last.
func (a *lexAnalysis) commentedLines(first, last int) bool {
	cs := a.lf.comments
	k := sort.Search(len(cs), func(k int) bool { return cs[k].line >= first })
	return k < len(cs) && cs[k].line <= last
}

// pythonImport records the modules of an import or from line.
func (a *lexAnalysis) pythonImport(k, e int) {
	if a.toks[k].text == "from" {
		var b strings.Builder
		j := k + 1
		for ; j <= e && !a.isIdent(j, "import"); j++ {
			b.WriteString(a.toks[j].text)
		}
		if mod := b.String(); mod != "" {
			a.rep.imports = append(a.rep.imports, mod)
			if mod == "hashlib" {
				for ; j <= e; j++ {
					if a.isIdent(j, "md5") || a.isIdent(j, "sha1") {
						t := a.toks[j]
						a.rep.add(t.line, t.col, "py-weak-hash", SeverityWarning, weakHashMessage("hashlib."+t.text))
					}
				}
			}
		}
		return
	}
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			a.rep.imports = append(a.rep.imports, b.String())
			b.Reset()
		}
	}
	for j := k + 1; j <= e; j++ {
		switch {
		case a.isIdent(j, "as"):
			flush()
			j++ // the alias
		case a.is(j, ","):
			flush()
		case a.ident(j) || a.is(j, "."):
			b.WriteString(a.toks[j].text)
		}
	}
	flush()
}

// pythonDecision reports whether token i is a decision point.
func (a *lexAnalysis) pythonDecision(i int) bool {
	t := a.toks[i]
	if t.kind != tokIdent || a.afterDot(i) {
		return false
	}
	switch t.text {
	case "if", "elif", "for", "while", "except", "and", "or":
		return true
	case "case":
		// A match arm, except the catch-all "case _:".
		return t.bol && !(a.isIdent(i+1, "_") && a.is(i+2, ":"))
	}
	return false
}

var pySubprocess = map[string]bool{
	"run": true, "call": true, "check_call": true, "check_output": true, "Popen": true,
	"getoutput": true, "getstatusoutput": true,
}

var pySQLSinks = map[string]bool{
	"execute": true, "executemany": true, "executescript": true, "read_sql": true,
	"read_sql_query": true, "raw": true,
}

func (a *lexAnalysis) pythonRules() {
	for i, t := range a.toks {
		if t.kind != tokIdent || !a.is(i+1, "(") {
			continue
		}
		obj := ""
		if a.is(i-1, ".") && a.ident(i-2) {
			obj = a.toks[i-2].text
		}
		switch {
		case (t.text == "eval" || t.text == "exec") && !a.afterDot(i) && !a.isIdent(i-1, "def"):
			a.pythonEval(i)
		case obj == "os" && (t.text == "system" || t.text == "popen"),
			obj == "commands" && (t.text == "getoutput" || t.text == "getstatusoutput"):
			a.pythonShell(i, true)
		case obj == "subprocess" && pySubprocess[t.text]:
			a.pythonShell(i, t.text == "getoutput" || t.text == "getstatusoutput")
		case obj == "hashlib" && (t.text == "md5" || t.text == "sha1"):
			if !a.kwarg(i+1, "usedforsecurity", "False") {
				a.rep.add(t.line, t.col, "py-weak-hash", SeverityWarning, weakHashMessage("hashlib."+t.text))
			}
		case obj == "hashlib" && t.text == "new":
			if args := a.args(i + 1); len(args) > 0 && a.toks[args[0][0]].kind == tokString {
				if alg := strings.ToLower(a.toks[args[0][0]].str); alg == "md5" || alg == "sha1" {
					if !a.kwarg(i+1, "usedforsecurity", "False") {
						a.rep.add(t.line, t.col, "py-weak-hash", SeverityWarning, weakHashMessage("hashlib.new(\""+alg+"\")"))
					}
				}
			}
		case pySQLSinks[t.text] && (a.afterDot(i) || strings.HasPrefix(t.text, "read_sql")):
			a.sqlSink(i)
		}
	}
}

// kwarg reports whether the call opened at open passes name=value.
func (a *lexAnalysis) kwarg(open int, name, value string) bool {
	for _, seg := range a.args(open) {
		if seg[1]-seg[0] == 2 && a.isIdent(seg[0], name) && a.is(seg[0]+1, "=") && a.toks[seg[0]+2].text == value {
			return true
		}
	}
	return false
}

func (a *lexAnalysis) pythonEval(i int) {
	t := a.toks[i]
	sev, msg := SeverityWarning, t.text+"() runs arbitrary code; use ast.literal_eval, json or an explicit parser"
	if args := a.args(i + 1); len(args) > 0 {
		if f := a.argFacts(args[0]); f.dynamic {
			sev, msg = SeverityError, fmt.Sprintf("%s() runs code built by %s; never evaluate input", t.text, f.how)
		}
	}
	a.rep.add(t.line, t.col, "py-eval", sev, msg)
}

// pythonShell checks a call that may run a shell: always does when shell is
// set, otherwise only with shell=True.
func (a *lexAnalysis) pythonShell(i int, shell bool) {
	t := a.toks[i]
	if !shell && !a.kwarg(i+1, "shell", "True") {
		return // an argument list is not parsed by a shell
	}
	args := a.args(i + 1)
	if len(args) == 0 {
		return
	}
	callee := a.toks[i-2].text + "." + t.text
	f := a.argFacts(args[0])
	switch {
	case f.dynamic:
		a.rep.add(t.line, t.col, "py-shell-injection", SeverityError,
			fmt.Sprintf("%s runs a shell command built by %s; pass an argument list without shell=True, or quote with shlex.quote", callee, f.how))
	case !shell && args[0][0] == args[0][1] && a.ident(args[0][0]) && !literalWords[a.toks[args[0][0]].text]:
		a.rep.add(t.line, t.col, "py-shell-injection", SeverityWarning,
			fmt.Sprintf("%s runs the command in %s through a shell (shell=True); make sure it holds no input, or pass an argument list", callee, a.toks[args[0][0]].text))
	}
}
