package codeanalysis

// Over 500 lines, one concept: the tokenizer shared by the Python and
// JavaScript analyses. String, template, regular-expression and comment
// forms of both languages are one state machine, kept in one place so that
// a fix to one form is seen beside the others.

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The lexical scanner for Python, JavaScript and TypeScript. It does not
// parse: it only has to be right about what is code, what is a string and
// what is a comment, so that keywords inside strings are not counted and a
// quote inside a comment does not swallow the file. Malformed input is
// recovered from at the end of the line, which keeps one bad literal (or an
// apostrophe in JSX text) from spoiling everything after it.

type tokKind uint8

const (
	tokIdent  tokKind = iota + 1 // identifiers and keywords
	tokNumber                    // numeric literals
	tokString                    // string, template and f-string literals
	tokPunct                     // operators and brackets
	tokRegexp                    // JavaScript regular expression literals
)

type lexToken struct {
	kind    tokKind
	text    string // the source text of the token
	str     string // for strings: the contents, without quotes or prefix
	off     int    // byte offset
	line    int    // 1-based line of the first byte
	col     int    // 1-based byte column
	endLine int    // line of the last byte (strings may span lines)
	interp  bool   // an f-string or template literal with an interpolation
	tmpl    bool   // a JavaScript template literal
	bol     bool   // first token of a logical line (Python) or a physical line (JavaScript)
	indent  int    // indentation width of the line, for bol tokens
}

type comment struct {
	off  int // byte offset
	line int
	col  int
	text string
}

// A lexFile is a scanned file: its tokens, its comments, and for every
// bracket the index of its partner.
type lexFile struct {
	python   bool
	toks     []lexToken
	comments []comment
	// match[i] is the partner of a bracket token: for an opener its closer
	// (or the last token, when it is never closed), for a closer its opener;
	// -1 for every other token and for stray closers.
	match []int
	// parent[i] is the innermost opener enclosing token i, or -1.
	parent []int
}

type lexer struct {
	src       string
	python    bool
	pos       int
	line      int
	lineStart int
	bol       bool
	cont      bool // a Python backslash continuation is pending
	depth     int  // bracket depth: Python newlines inside brackets do not end a line
	// noRegexpLine is a line where a regexp literal failed to close: the
	// rest of it is scanned without looking for more.
	noRegexpLine int
	out          *lexFile
}

// lex scans src as Python when python is set, as JavaScript or TypeScript
// otherwise. It never fails.
func lex(src string, python bool) *lexFile {
	l := &lexer{src: src, python: python, line: 1, bol: true, out: &lexFile{python: python}}
	if strings.HasPrefix(src, "\uFEFF") {
		l.pos = 3
	}
	for l.pos < len(l.src) {
		l.next()
	}
	l.out.pair()
	return l.out
}

func (l *lexer) peek(k int) byte {
	if l.pos+k < len(l.src) {
		return l.src[l.pos+k]
	}
	return 0
}

// advanceTo moves to end, counting the lines passed.
func (l *lexer) advanceTo(end int) {
	if end > len(l.src) {
		end = len(l.src)
	}
	for {
		i := strings.IndexByte(l.src[l.pos:end], '\n')
		if i < 0 {
			break
		}
		l.pos += i + 1
		l.line++
		l.lineStart = l.pos
	}
	l.pos = end
}

func (l *lexer) emit(kind tokKind, start, end int) *lexToken {
	line, col := l.line, start-l.lineStart+1
	l.advanceTo(end)
	t := lexToken{kind: kind, text: l.src[start:l.pos], off: start, line: line, col: col, endLine: l.line}
	if l.bol {
		t.bol = true
		t.indent = indentWidth(l.src[l.lineStartOf(start):start])
		l.bol = false
	}
	l.out.toks = append(l.out.toks, t)
	return &l.out.toks[len(l.out.toks)-1]
}

func (l *lexer) lineStartOf(off int) int {
	return strings.LastIndexByte(l.src[:off], '\n') + 1
}

// indentWidth measures leading white space the way Python does: a tab moves
// to the next multiple of eight.
func indentWidth(s string) int {
	w := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ':
			w++
		case '\t':
			w = (w/8 + 1) * 8
		case '\f':
			w = 0
		default:
			return w
		}
	}
	return w
}

func (l *lexer) comment(start, end int) {
	if end > len(l.src) {
		end = len(l.src)
	}
	l.out.comments = append(l.out.comments, comment{off: start, line: l.line, col: start - l.lineStart + 1, text: l.src[start:end]})
	l.advanceTo(end)
}

// lineEnd is the offset of the next newline at or after i, or the end.
func (l *lexer) lineEnd(i int) int {
	if j := strings.IndexByte(l.src[i:], '\n'); j >= 0 {
		return i + j
	}
	return len(l.src)
}

func (l *lexer) next() {
	c := l.src[l.pos]
	switch {
	case c == '\n':
		l.advanceTo(l.pos + 1)
		if !l.python || (l.depth == 0 && !l.cont) {
			l.bol = true
		}
		l.cont = false
	case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
		l.pos++
	case l.python && c == '\\':
		if l.peek(1) == '\n' || (l.peek(1) == '\r' && l.peek(2) == '\n') {
			l.cont = true
		}
		l.pos++
	case l.python && c == '#':
		l.comment(l.pos, l.lineEnd(l.pos))
	case !l.python && c == '/' && l.peek(1) == '/':
		l.comment(l.pos, l.lineEnd(l.pos))
	case !l.python && c == '/' && l.peek(1) == '*':
		end := len(l.src)
		if j := strings.Index(l.src[l.pos+2:], "*/"); j >= 0 {
			end = l.pos + 2 + j + 2
		}
		l.comment(l.pos, end)
	case !l.python && c == '#' && l.pos == 0 && l.peek(1) == '!':
		l.comment(l.pos, l.lineEnd(l.pos))
	case c == '"' || c == '\'':
		l.quoted(l.pos, l.pos, "")
	case !l.python && c == '`':
		l.template()
	case isDigit(c) || (c == '.' && isDigit(l.peek(1))):
		end := l.pos + 1
		for end < len(l.src) && (isAlnum(l.src[end]) || l.src[end] == '.' || l.src[end] == '_') {
			end++
		}
		l.emit(tokNumber, l.pos, end)
	case !l.python && c == '/' && l.noRegexpLine != l.line && l.regexpAllowed():
		if end, ok := l.regexpEnd(); ok {
			l.emit(tokRegexp, l.pos, end)
		} else {
			// The scan went to the end of the line; scanning again from
			// every later slash would make a long line quadratic.
			l.noRegexpLine = l.line
			l.punct()
		}
	default:
		l.identOrPunct()
	}
}

func (l *lexer) identOrPunct() {
	start := l.pos
	i := l.pos
	if !l.python && l.src[i] == '#' { // a private class member, #name
		i++
	}
	r, size := utf8.DecodeRuneInString(l.src[i:])
	if !identStart(r, l.python) {
		if i != start || l.src[start] < utf8.RuneSelf {
			l.punct()
		} else {
			l.pos += size // a rune that is neither code nor space
		}
		return
	}
	i += size
	for i < len(l.src) {
		r, size := utf8.DecodeRuneInString(l.src[i:])
		if !identPart(r, l.python) {
			break
		}
		i += size
	}
	word := l.src[start:i]
	if l.python && i < len(l.src) && (l.src[i] == '"' || l.src[i] == '\'') && len(word) <= 3 && strings.Trim(word, "rRbBuUfFtT") == "" {
		l.quoted(start, i, strings.ToLower(word))
		return
	}
	l.emit(tokIdent, start, i)
}

// puncts are the multi-character operators, longest first.
var puncts = []string{
	">>>=", "...", "===", "!==", "**=", "<<=", ">>=", ">>>", "&&=", "||=", "??=", "//=",
	"->", "=>", ":=", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "++", "--",
	"+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=", "**", "//", "<<", ">>",
}

func (l *lexer) punct() {
	rest := l.src[l.pos:]
	n := 1
	for _, p := range puncts {
		if strings.HasPrefix(rest, p) {
			n = len(p)
			// "a?.5:b" is a conditional, not optional chaining.
			if p == "?." && len(rest) > 2 && isDigit(rest[2]) {
				n = 1
			}
			break
		}
	}
	switch rest[0] {
	case '(', '[', '{':
		if n == 1 {
			l.depth++
		}
	case ')', ']', '}':
		if n == 1 && l.depth > 0 {
			l.depth--
		}
	}
	l.emit(tokPunct, l.pos, l.pos+n)
}

// quoted scans a quoted string whose opening quote is at q; the token starts
// at start (before any Python prefix).
func (l *lexer) quoted(start, q int, prefix string) {
	quote := l.src[q]
	triple := l.python && strings.HasPrefix(l.src[q:], strings.Repeat(string(quote), 3))
	var end, bodyStart, bodyEnd int
	if triple {
		bodyStart = q + 3
		end, bodyEnd = len(l.src), len(l.src)
		for i := bodyStart; i < len(l.src); i++ {
			if l.src[i] == '\\' {
				i++
				continue
			}
			if l.src[i] == quote && strings.HasPrefix(l.src[i:], strings.Repeat(string(quote), 3)) {
				end, bodyEnd = i+3, i
				break
			}
		}
	} else {
		bodyStart = q + 1
		end, bodyEnd = -1, -1
		for i := bodyStart; i < len(l.src); i++ {
			c := l.src[i]
			if c == '\\' {
				i++
				continue
			}
			if c == quote {
				end, bodyEnd = i+1, i
				break
			}
			if c == '\n' {
				end, bodyEnd = i, i // unterminated: stop at the end of the line
				break
			}
		}
		if end < 0 {
			end, bodyEnd = len(l.src), len(l.src)
		}
	}
	if bodyEnd > len(l.src) {
		bodyEnd = len(l.src)
	}
	if bodyEnd < bodyStart {
		bodyEnd = bodyStart
	}
	if bodyStart > len(l.src) {
		bodyStart = len(l.src)
		bodyEnd = bodyStart
	}
	t := l.emit(tokString, start, end)
	t.str = l.src[bodyStart:bodyEnd]
	if strings.ContainsAny(prefix, "ft") {
		t.interp = hasInterpolation(t.str)
	}
}

// hasInterpolation reports whether f-string contents hold a replacement
// field ("{x}"), as opposed to only escaped braces ("{{").
func hasInterpolation(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '{' {
			if i+1 < len(s) && s[i+1] == '{' {
				i++
				continue
			}
			return true
		}
	}
	return false
}

// template scans a JavaScript template literal, including the code of its
// ${...} substitutions, which may hold strings, comments and further
// templates. The nesting is kept on an explicit stack so that hostile input
// cannot exhaust the goroutine stack.
func (l *lexer) template() {
	type frame struct {
		tmpl  bool
		depth int
	}
	start := l.pos
	stack := []frame{{tmpl: true}}
	interp := false
	i := start + 1
	end := len(l.src)
scan:
	for i < len(l.src) {
		top := &stack[len(stack)-1]
		c := l.src[i]
		if top.tmpl {
			switch {
			case c == '\\':
				i += 2
			case c == '`':
				i++
				stack = stack[:len(stack)-1]
				if len(stack) == 0 {
					end = i
					break scan
				}
			case c == '$' && i+1 < len(l.src) && l.src[i+1] == '{':
				interp = true
				i += 2
				stack = append(stack, frame{depth: 1})
			default:
				i++
			}
			continue
		}
		switch {
		case c == '{':
			top.depth++
			i++
		case c == '}':
			top.depth--
			i++
			if top.depth == 0 {
				stack = stack[:len(stack)-1]
			}
		case c == '`':
			i++
			stack = append(stack, frame{tmpl: true})
		case c == '\'' || c == '"':
			i++
			for i < len(l.src) && l.src[i] != c && l.src[i] != '\n' {
				if l.src[i] == '\\' {
					i++
				}
				i++
			}
			i++
		case c == '/' && i+1 < len(l.src) && l.src[i+1] == '/':
			for i < len(l.src) && l.src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(l.src) && l.src[i+1] == '*':
			if j := strings.Index(l.src[i+2:], "*/"); j >= 0 {
				i += 2 + j + 2
			} else {
				i = len(l.src)
			}
		default:
			i++
		}
	}
	if end > len(l.src) {
		end = len(l.src)
	}
	t := l.emit(tokString, start, end)
	t.tmpl = true
	t.interp = interp
	body := t.text[1:]
	if strings.HasSuffix(body, "`") {
		body = body[:len(body)-1]
	}
	t.str = body
}

// regexpAllowed reports whether a slash here starts a regular expression
// rather than a division: it does where an operand is expected.
func (l *lexer) regexpAllowed() bool {
	toks := l.out.toks
	if len(toks) == 0 {
		return true
	}
	p := toks[len(toks)-1]
	switch p.kind {
	case tokPunct:
		return p.text != ")" && p.text != "]" && p.text != "}"
	case tokIdent:
		return regexpKeywords[p.text]
	}
	return false
}

var regexpKeywords = map[string]bool{
	"return": true, "typeof": true, "instanceof": true, "in": true, "of": true,
	"new": true, "delete": true, "void": true, "throw": true, "case": true,
	"do": true, "else": true, "yield": true, "await": true,
}

// regexpEnd finds the end of a regular expression literal starting at the
// slash under the cursor, flags included. A literal never spans lines; one
// that is not closed on its line was a division after all.
func (l *lexer) regexpEnd() (int, bool) {
	inClass := false
	for i := l.pos + 1; i < len(l.src); i++ {
		c := l.src[i]
		switch {
		case c == '\\':
			i++
		case c == '\n':
			return 0, false
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
		case c == '/':
			i++
			for i < len(l.src) && isAlnum(l.src[i]) {
				i++
			}
			return i, true
		}
	}
	return 0, false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func identStart(r rune, python bool) bool {
	return r == '_' || (!python && r == '$') || (r != utf8.RuneError && unicode.IsLetter(r))
}

func identPart(r rune, python bool) bool {
	return identStart(r, python) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)
}

// pair fills match and parent. Closers that match nothing are ignored; a
// closer met while other openers are still open closes them too, the way an
// editor recovers from a missing bracket.
func (f *lexFile) pair() {
	n := len(f.toks)
	f.match = make([]int, n)
	f.parent = make([]int, n)
	var stack []int
	open := map[byte]int{} // openers of each kind on the stack
	for i := range f.toks {
		f.match[i] = -1
		top := -1
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		f.parent[i] = top
		t := &f.toks[i]
		if t.kind != tokPunct || len(t.text) != 1 {
			continue
		}
		switch t.text[0] {
		case '(', '[', '{':
			stack = append(stack, i)
			open[t.text[0]]++
		case ')', ']', '}':
			want := opener(t.text[0])
			if open[want] == 0 {
				continue // stray: checked first, so that many strays stay linear
			}
			k := len(stack) - 1
			for k >= 0 && f.toks[stack[k]].text[0] != want {
				k--
			}
			if k < 0 {
				continue
			}
			for _, o := range stack[k:] {
				open[f.toks[o].text[0]]--
			}
			for _, o := range stack[k+1:] {
				f.match[o] = max(i-1, o)
			}
			o := stack[k]
			f.match[o], f.match[i] = i, o
			f.parent[i] = f.parent[o]
			stack = stack[:k]
		}
	}
	for _, o := range stack {
		f.match[o] = n - 1
	}
}

func opener(c byte) byte {
	switch c {
	case ')':
		return '('
	case ']':
		return '['
	}
	return '{'
}
