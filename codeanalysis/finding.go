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
// the imports in order.
func (r *fileReport) finish() {
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
	for i := range r.findings {
		f := &r.findings[i]
		f.Message = maskSecrets(f.Message, r.secrets)
		if f.Line >= 1 && f.Line <= len(r.lines) {
			f.Snippet = snippet(r.lines[f.Line-1], r.secrets)
		}
	}
	sort.Strings(r.imports)
	r.imports = dedupe(r.imports)
}

// snippet trims a source line for display: secrets masked, at most
// snippetMax runes, valid UTF-8.
func snippet(line string, secrets []string) string {
	line = strings.TrimSpace(strings.ToValidUTF8(line, "\uFFFD"))
	line = maskSecrets(line, secrets)
	if utf8.RuneCountInString(line) > snippetMax {
		n := 0
		for i := range line {
			if n == snippetMax {
				line = line[:i] + "…"
				break
			}
			n++
		}
	}
	return line
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
