package memory

import (
	"strings"
	"unicode"
)

// Limits on search text.
const (
	MaxSearchTextBytes = 1024
	// MaxSearchTerms is how many words and phrases of a text are searched
	// for; the rest are reported in SearchPage.IgnoredTerms.
	MaxSearchTerms = 32
)

// A searchTerm is one word, or one "quoted phrase", of a search text.
type searchTerm struct {
	words []string // lower case
}

// String returns the term as the user would write it.
func (t searchTerm) String() string {
	if len(t.words) == 1 {
		return t.words[0]
	}
	return `"` + strings.Join(t.words, " ") + `"`
}

// fts returns the term as an FTS5 string: always quoted, so that nothing a
// user types is read as FTS5 syntax (AND, OR, NOT, NEAR, column filters,
// parentheses, *, ^, +). The words hold only letters, digits and marks,
// so they cannot contain a quote; doubling would be the escape if they
// did.
func (t searchTerm) fts() string {
	return `"` + strings.ReplaceAll(strings.Join(t.words, " "), `"`, `""`) + `"`
}

// parseSearchText splits text into terms: runs of letters and digits are
// words, as the index's unicode61 tokenizer splits content, and words
// between double quotes form a phrase that must occur as written. Every
// other character separates words and has no meaning, so "C++ AND (x"
// searches for the words c, and, x. An unclosed quote runs to the end of
// the text. Repeated terms count once.
func parseSearchText(text string) []searchTerm {
	var (
		terms  []searchTerm
		seen   = map[string]bool{}
		phrase []string // words of the open phrase
		inQ    bool
		word   strings.Builder
	)
	add := func(words []string) {
		if len(words) == 0 {
			return
		}
		t := searchTerm{words: words}
		if k := t.String(); !seen[k] {
			seen[k] = true
			terms = append(terms, t)
		}
	}
	endWord := func() {
		if word.Len() == 0 {
			return
		}
		w := strings.ToLower(word.String())
		word.Reset()
		if inQ {
			phrase = append(phrase, w)
		} else {
			add([]string{w})
		}
	}
	for _, r := range text {
		switch {
		case isWordRune(r):
			word.WriteRune(r)
		case r == '"':
			endWord()
			if inQ {
				add(phrase)
				phrase = nil
			}
			inQ = !inQ
		default:
			endWord()
		}
	}
	endWord()
	add(phrase)
	return terms
}

// isWordRune reports whether r is part of a word for unicode61: letters,
// numbers, private-use characters, and the combining marks that carry
// diacritics.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.In(r, unicode.Mn, unicode.Mc, unicode.Co)
}

// ftsOr joins terms into an FTS5 query matching any of them.
func ftsOr(terms []searchTerm) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = t.fts()
	}
	return strings.Join(parts, " OR ")
}
