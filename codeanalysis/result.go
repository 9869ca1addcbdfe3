package codeanalysis

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// A Result is the outcome of one analysis. It marshals to JSON with
// snake_case keys; every list is sorted, so equal inputs give equal output.
type Result struct {
	Path          string         `json:"path"` // as analysed, relative to Root, slash-separated; "." for the root itself
	Root          string         `json:"root"`
	Kind          string         `json:"kind"` // "file" or "directory"
	Type          string         `json:"type"`
	FilesAnalyzed int            `json:"files_analyzed"`
	FilesSkipped  int            `json:"files_skipped"`       // files and directories left out, see Skipped
	Languages     map[string]int `json:"languages"`           // files analysed per language
	Summary       Summary        `json:"summary"`             // counts over everything found, before any truncation
	Findings      []Finding      `json:"findings"`            // by file, line, column and rule
	Functions     []Function     `json:"functions,omitempty"` // complexity only; by file and line
	Files         []FileSummary  `json:"files"`
	Skipped       []Skipped      `json:"skipped,omitempty"`
	// Approximate is set when some file was analysed lexically (Python,
	// JavaScript, TypeScript) or had Go syntax errors; Notes say which.
	Approximate bool     `json:"approximate"`
	Truncated   bool     `json:"truncated"` // some list, or the walk, was cut short; Notes say which
	Notes       []string `json:"notes,omitempty"`
}

// Summary counts what an analysis found.
type Summary struct {
	Findings          int            `json:"findings"`
	Errors            int            `json:"errors"`
	Warnings          int            `json:"warnings"`
	Info              int            `json:"info"`
	ByRule            map[string]int `json:"by_rule"`
	Lines             int            `json:"lines"`     // lines in the files analysed
	Functions         int            `json:"functions"` // functions found
	MaxCyclomatic     int            `json:"max_cyclomatic,omitempty"`
	AverageCyclomatic float64        `json:"average_cyclomatic,omitempty"`
}

// FileSummary describes one file analysed.
type FileSummary struct {
	Path        string   `json:"path"`
	Language    string   `json:"language"`
	Lines       int      `json:"lines"`
	Functions   int      `json:"functions"`
	Findings    int      `json:"findings"`
	Imports     []string `json:"imports,omitempty"` // complexity only
	Approximate bool     `json:"approximate,omitempty"`
	Note        string   `json:"note,omitempty"`
}

// Skipped is a file or directory left out of an analysis, and why. A
// directory's path ends in "/".
type Skipped struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// maxSkipped bounds Result.Skipped; FilesSkipped still counts them all.
const maxSkipped = 200

// A collector merges file reports into a Result.
type collector struct {
	typ       string
	opts      Options
	res       *Result
	findings  []Finding
	functions []Function
	lexical   map[string]bool // languages analysed lexically
	parseErrs int             // Go files with syntax errors
}

func newCollector(typ string, opts Options, t target, kind string) *collector {
	return &collector{
		typ: typ, opts: opts, lexical: map[string]bool{},
		res: &Result{
			Path: t.display, Root: t.root.given, Kind: kind, Type: typ,
			Languages: map[string]int{}, Findings: []Finding{}, Files: []FileSummary{},
			Summary: Summary{ByRule: map[string]int{}},
		},
	}
}

func (c *collector) skip(path, reason string) {
	c.res.FilesSkipped++
	if len(c.res.Skipped) < maxSkipped {
		c.res.Skipped = append(c.res.Skipped, Skipped{Path: path, Reason: reason})
	}
}

func (c *collector) note(s string) {
	c.res.Notes = append(c.res.Notes, s)
}

// add merges the report of one file, keeping the findings of the requested
// type (and those of every type, like Go syntax errors).
func (c *collector) add(r *fileReport) {
	res := c.res
	res.FilesAnalyzed++
	res.Languages[r.lang]++
	res.Summary.Lines += r.lineCount()
	fs := FileSummary{Path: r.path, Language: r.lang, Lines: r.lineCount(), Functions: len(r.funcs), Approximate: r.approximate, Note: r.note}
	if lexical(r.lang) {
		c.lexical[r.lang] = true
	} else if r.approximate {
		c.parseErrs++
	}
	for _, f := range r.findings {
		if t := ruleType(f.Rule); t != c.typ && t != typeAny {
			continue
		}
		fs.Findings++
		c.count(f)
		c.findings = append(c.findings, f)
	}
	// Keep memory bounded on a tree full of findings: only the most severe
	// MaxFindings can be shown, and keeping the best of each batch keeps the
	// best overall.
	if len(c.findings) > 4*c.opts.MaxFindings {
		sort.Slice(c.findings, func(i, j int) bool { return bySeverity(c.findings[i], c.findings[j]) })
		c.findings = c.findings[:c.opts.MaxFindings]
	}
	res.Summary.Functions += len(r.funcs)
	if c.typ == TypeComplexity {
		fs.Imports = r.imports
		c.functions = append(c.functions, r.funcs...)
	}
	res.Files = append(res.Files, fs)
}

// count adds a finding to the summary.
func (c *collector) count(f Finding) {
	s := &c.res.Summary
	s.Findings++
	s.ByRule[f.Rule]++
	switch f.Severity {
	case SeverityError:
		s.Errors++
	case SeverityWarning:
		s.Warnings++
	default:
		s.Info++
	}
}

func byPlace(a, b Finding) bool {
	if a.File != b.File {
		return a.File < b.File
	}
	if a.Line != b.Line {
		return a.Line < b.Line
	}
	if a.Column != b.Column {
		return a.Column < b.Column
	}
	if a.Rule != b.Rule {
		return a.Rule < b.Rule
	}
	return a.Message < b.Message
}

// bySeverity orders the most severe first, then by place: the order in
// which findings are kept when there are too many.
func bySeverity(a, b Finding) bool {
	if a.Severity.rank() != b.Severity.rank() {
		return a.Severity.rank() > b.Severity.rank()
	}
	return byPlace(a, b)
}

func (c *collector) finish() *Result {
	res := c.res
	s := &res.Summary
	if s.Findings > c.opts.MaxFindings {
		sort.Slice(c.findings, func(i, j int) bool { return bySeverity(c.findings[i], c.findings[j]) })
		c.note(fmt.Sprintf("findings truncated: showing %d of %d, the most severe kept; summary counts cover all of them", c.opts.MaxFindings, s.Findings))
		c.findings = c.findings[:c.opts.MaxFindings]
		res.Truncated = true
	}
	sort.Slice(c.findings, func(i, j int) bool { return byPlace(c.findings[i], c.findings[j]) })
	res.Findings = c.findings
	if res.Findings == nil {
		res.Findings = []Finding{}
	}

	if c.typ == TypeComplexity {
		total := 0
		for _, f := range c.functions {
			total += f.Cyclomatic
			s.MaxCyclomatic = max(s.MaxCyclomatic, f.Cyclomatic)
		}
		if len(c.functions) > 0 {
			s.AverageCyclomatic = math.Round(float64(total)/float64(len(c.functions))*100) / 100
		}
		byPlace := func(a, b Function) bool {
			if a.File != b.File {
				return a.File < b.File
			}
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			return a.Name < b.Name
		}
		if len(c.functions) > c.opts.MaxFunctions {
			sort.Slice(c.functions, func(i, j int) bool {
				a, b := c.functions[i], c.functions[j]
				if a.Cyclomatic != b.Cyclomatic {
					return a.Cyclomatic > b.Cyclomatic
				}
				return byPlace(a, b)
			})
			c.note(fmt.Sprintf("functions truncated: showing the %d most complex of %d", c.opts.MaxFunctions, len(c.functions)))
			c.functions = c.functions[:c.opts.MaxFunctions]
			res.Truncated = true
		}
		sort.Slice(c.functions, func(i, j int) bool { return byPlace(c.functions[i], c.functions[j]) })
		res.Functions = c.functions
		if res.Functions == nil {
			res.Functions = []Function{}
		}
	}
	sort.Slice(res.Files, func(i, j int) bool { return res.Files[i].Path < res.Files[j].Path })
	sort.Slice(res.Skipped, func(i, j int) bool { return res.Skipped[i].Path < res.Skipped[j].Path })
	if res.FilesSkipped > len(res.Skipped) {
		c.note(fmt.Sprintf("skipped list truncated: showing %d of %d", len(res.Skipped), res.FilesSkipped))
	}

	var langs []string
	for l := range c.lexical {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	if len(langs) > 0 {
		res.Approximate = true
		c.note(strings.Join(langs, ", ") + " analysed lexically, without a parser: function boundaries, complexity and findings are approximate")
	}
	if c.parseErrs > 0 {
		res.Approximate = true
		c.note(fmt.Sprintf("%d Go file(s) with syntax errors: their results come from the parser's partial recovery (see go-parse-error findings)", c.parseErrs))
	}
	return res
}
