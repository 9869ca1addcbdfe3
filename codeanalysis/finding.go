package codeanalysis

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// Severity grades a Finding.
type Severity string

const (
	SeverityInfo    Severity = "info"    // worth knowing; often fine
	SeverityWarning Severity = "warning" // likely a problem
	SeverityError   Severity = "error"   // a problem to fix
)

func (s Severity) rank() int {
	switch s {
	case SeverityError:
		return 2
	case SeverityWarning:
		return 1
	}
	return 0
}

// A Finding is one problem found at one place.
type Finding struct {
	File     string   `json:"file"`             // relative to the root, slash-separated
	Line     int      `json:"line"`             // 1-based
	Column   int      `json:"column,omitempty"` // 1-based byte column, when known
	Rule     string   `json:"rule"`             // stable id, see Rules
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	Snippet  string   `json:"snippet,omitempty"` // the line, trimmed, secrets masked
}

// A Function holds the metrics of one function, method or closure.
type Function struct {
	File       string `json:"file"`
	Name       string `json:"name"` // T.M or (*T).M for Go methods, Class.method elsewhere
	Line       int    `json:"line"`
	Cyclomatic int    `json:"cyclomatic"`  // 1 + decision points
	Lines      int    `json:"lines"`       // from the first line to the last, inclusive
	MaxNesting int    `json:"max_nesting"` // deepest nesting of control blocks; 0 for straight-line code
	Params     int    `json:"params"`      // receiver, self and cls not counted
}

// snippetMax bounds a snippet, in runes: a minified line is one megabyte.
const snippetMax = 160

// A fileReport is what the analysis of one file produces, before it is
// filtered by analysis type and merged into a Result.
type fileReport struct {
	path        string
	lang        string
	src         string
	lines       []string
	findings    []Finding
	funcs       []Function
	imports     []string
	approximate bool
	note        string
	secrets     []string // literal values to mask in every snippet of the file
}

func newFileReport(path, lang string, src []byte) *fileReport {
	s := string(src)
	lines := strings.Split(s, "\n")
	if n := len(lines); n > 1 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return &fileReport{path: path, lang: lang, src: s, lines: lines, approximate: lexical(lang)}
}

// lineCount is the number of lines in the file; an empty file has none.
func (r *fileReport) lineCount() int {
	if r.src == "" {
		return 0
	}
	return len(r.lines)
}

func (r *fileReport) add(line, col int, rule string, sev Severity, msg string) {
	if line < 1 {
		line = 1
	}
	if col < 0 {
		col = 0
	}
	r.findings = append(r.findings, Finding{File: r.path, Line: line, Column: col, Rule: rule, Severity: sev, Message: msg})
}

func (r *fileReport) function(f Function) {
	f.File = r.path
	if f.Lines < 1 {
		f.Lines = 1
	}
	r.funcs = append(r.funcs, f)
}

// finish fills in the snippets, now that every secret of the file is known,
// masks secrets in messages too (a TODO comment quotes its line), and puts
// the imports in order. Each line is masked once, however many findings it
// has: a minified line can hold thousands.
func (r *fileReport) finish() {
	secrets := r.secretReplacer()
	masked := map[int]string{}
	for i := range r.findings {
		f := &r.findings[i]
		f.Message = maskSecrets(f.Message, secrets)
		if f.Line < 1 || f.Line > len(r.lines) {
			continue
		}
		line, ok := masked[f.Line]
		if !ok {
			line = maskSecrets(strings.ToValidUTF8(r.lines[f.Line-1], "\uFFFD"), secrets)
			masked[f.Line] = line
		}
		f.Snippet = snippet(line, f.Column)
	}
	sort.Strings(r.imports)
	r.imports = dedupe(r.imports)
}

// secretReplacer masks every secret literal found in the file, longest
// first so that a secret inside another is masked whole; nil when there are
// none.
func (r *fileReport) secretReplacer() *strings.Replacer {
	if len(r.secrets) == 0 {
		return nil
	}
	s := append([]string(nil), r.secrets...)
	sort.Slice(s, func(i, j int) bool { return len(s[i]) > len(s[j]) || len(s[i]) == len(s[j]) && s[i] < s[j] })
	s = dedupe(s)
	pairs := make([]string, 0, 2*len(s))
	for _, v := range s {
		pairs = append(pairs, v, mask(v))
	}
	return strings.NewReplacer(pairs...)
}

// snippet trims a masked source line for display, to at most snippetMax
// runes: a long line is shown from a little before col, so that the
// finding is in view. It looks at no more of the line than it shows.
func snippet(line string, col int) string {
	start := 0
	if col > snippetMax/2 && col <= len(line) {
		start = col - 1 - 20
		for start > 0 && !utf8.RuneStart(line[start]) {
			start--
		}
	}
	prefix := ""
	if start > 0 {
		prefix = "…"
	}
	rest := strings.TrimLeft(line[start:], " \t")
	n := 0
	for i := range rest {
		if n == snippetMax {
			return prefix + strings.TrimRight(rest[:i], " \t") + "…"
		}
		n++
	}
	return prefix + strings.TrimRight(rest, " \t\r")
}

func dedupe(sorted []string) []string {
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}
