package memory

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Snippets are made here rather than with FTS5's snippet(): SQLite would
// compute snippet() for every candidate before sorting them by score, and
// asking FTS5 again for the few rows kept costs a doclist scan per row.
// Matching words are found again in Go, with a light suffix-stripping
// comparison standing in for the index's Porter stemmer, so a highlight
// can occasionally be missed; the snippet is still the entry's text.

const (
	snippetWords = 24       // words in a snippet
	snippetScan  = 64 << 10 // bytes of content looked at
	markOpen     = "**"     // around a matching word: Markdown bold,
	markClose    = "**"     // which agents and people both read
	ellipsis     = "…"
)

type span struct{ start, end int } // byte offsets of a word in the text

// makeSnippet returns about snippetWords words of content around the
// densest cluster of the terms' words, matching words marked, white space
// collapsed, and an ellipsis where text was cut.
func makeSnippet(content string, terms []searchTerm) string {
	text := content
	if len(text) > snippetScan {
		text = text[:snippetScan]
		for !utf8.ValidString(text) { // do not cut a character in half
			text = text[:len(text)-1]
		}
	}
	stems := map[string]bool{}
	for _, t := range terms {
		for _, w := range t.words {
			stems[lightStem(w)] = true
		}
	}
	var words []span
	start := -1
	for i, r := range text {
		switch {
		case isWordRune(r):
			if start < 0 {
				start = i
			}
		case start >= 0:
			words = append(words, span{start, i})
			start = -1
		}
	}
	if start >= 0 {
		words = append(words, span{start, len(text)})
	}
	if len(words) == 0 {
		return collapseSpace(text)
	}
	hit := make([]bool, len(words))
	first, last := -1, -1
	for i, w := range words {
		if stems[lightStem(strings.ToLower(text[w.start:w.end]))] {
			hit[i] = true
		}
	}

	// The earliest window of snippetWords words holding the most hits,
	// then moved so that its hits sit in the middle.
	from, best := 0, -1
	count := 0
	for i := range words {
		if hit[i] {
			count++
		}
		if i >= snippetWords && hit[i-snippetWords] {
			count--
		}
		if i >= min(snippetWords, len(words))-1 && count > best {
			best, from = count, max(0, i-snippetWords+1)
		}
	}
	to := min(from+snippetWords, len(words))
	for i := from; i < to; i++ {
		if hit[i] {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first >= 0 {
		from = max(0, min((first+last)/2-snippetWords/2, len(words)-snippetWords))
		to = min(from+snippetWords, len(words))
	}

	var b strings.Builder
	pos := 0
	if from > 0 {
		b.WriteString(ellipsis)
		pos = words[from].start
	}
	for i := from; i < to; i++ {
		w := words[i]
		b.WriteString(collapseSpace(text[pos:w.start]))
		if hit[i] {
			b.WriteString(markOpen + text[w.start:w.end] + markClose)
		} else {
			b.WriteString(text[w.start:w.end])
		}
		pos = w.end
	}
	if to < len(words) || len(text) < len(content) {
		b.WriteString(ellipsis)
	} else {
		b.WriteString(collapseSpace(text[pos:]))
	}
	return strings.TrimSpace(b.String())
}

// lightStem strips one common English ending, so that "migrations",
// "migrated", "migrate" and "migrating" all meet at "migrat".
func lightStem(w string) string {
	for _, r := range stemRules {
		if len(w) > len(r.suffix)+2 && strings.HasSuffix(w, r.suffix) {
			return w[:len(w)-len(r.suffix)] + r.with
		}
	}
	return w
}

var stemRules = []struct{ suffix, with string }{
	{"ations", "at"}, {"ation", "at"}, {"ings", ""}, {"ing", ""}, {"edly", ""}, {"ed", ""},
	{"ies", "y"}, {"es", ""}, {"ers", ""}, {"er", ""}, {"ly", ""}, {"s", ""}, {"e", ""},
}

// collapseSpace replaces each run of white space with one space.
func collapseSpace(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	if space {
		b.WriteByte(' ')
	}
	return b.String()
}
