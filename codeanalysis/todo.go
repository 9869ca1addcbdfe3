package codeanalysis

import (
	"regexp"
	"strings"
)

// reTodo finds a marker that opens a comment line ("// TODO fix", "# FIXME")
// or is written as one ("see TODO(ann): ..."), not a mention in prose ("the
// TODO list").
var reTodo = regexp.MustCompile(`^[\s/*#!-]*\b(?:TODO|FIXME|XXX|HACK)\b|\b(?:TODO|FIXME|XXX|HACK)[:(]`)

// todoComments reports TODO, FIXME, XXX and HACK markers in a comment, at
// most one per line; line and col locate the comment's first byte.
func todoComments(r *fileReport, line, col int, text string) {
	for i, l := range strings.Split(text, "\n") {
		loc := reTodo.FindStringIndex(l)
		if loc == nil {
			continue
		}
		start := loc[0] + len(l[loc[0]:loc[1]]) - len(strings.TrimLeft(l[loc[0]:loc[1]], " \t/*#!-"))
		c := 0
		if i == 0 {
			c = col + start
		}
		rest := l[start:]
		if len(rest) > 100 {
			rest = strings.ToValidUTF8(rest[:100], "") + "…"
		}
		rest = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "*/"))
		r.add(line+i, c, "todo-comment", SeverityInfo, rest)
	}
}
