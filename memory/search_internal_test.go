package memory

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseSearchText(t *testing.T) {
	tests := []struct {
		text string
		want []string // terms as String shows them
		fts  string
	}{
		{"postgres timeout", []string{"postgres", "timeout"}, `"postgres" OR "timeout"`},
		{`C++ "quoted" AND OR (`, []string{"c", "quoted", "and", "or"}, `"c" OR "quoted" OR "and" OR "or"`},
		{`"error budget" spent`, []string{`"error budget"`, "spent"}, `"error budget" OR "spent"`},
		{`"unclosed phrase here`, []string{`"unclosed phrase here"`}, `"unclosed phrase here"`},
		{`""  ""`, nil, ``},
		{`"one"`, []string{"one"}, `"one"`},
		{"Go go GO", []string{"go"}, `"go"`},
		{"snake_case kebab-case dot.ted", []string{"snake", "case", "kebab", "dot", "ted"}, `"snake" OR "case" OR "kebab" OR "dot" OR "ted"`},
		{"content:secret NEAR(a b)", []string{"content", "secret", "near", "a", "b"}, `"content" OR "secret" OR "near" OR "a" OR "b"`},
		{"日本語 café", []string{"日本語", "café"}, `"日本語" OR "café"`},
		{"()*^+-:;'", nil, ``},
	}
	for _, tt := range tests {
		terms := parseSearchText(tt.text)
		var got []string
		for _, term := range terms {
			got = append(got, term.String())
		}
		if d := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("parseSearchText(%q) (-want +got):\n%s", tt.text, d)
		}
		if f := ftsOr(terms); f != tt.fts {
			t.Errorf("ftsOr(%q) = %s, want %s", tt.text, f, tt.fts)
		}
	}
}

func TestMakeSnippet(t *testing.T) {
	long := strings.Repeat("lorem ipsum dolor ", 30)
	tests := []struct {
		name, content, text, want string
	}{
		{"short, whole", "Fix the flaky\n\ntest  today.", "flaky", "Fix the **flaky** test today."},
		{"no match shows the start", "alpha beta gamma", "zeta", "alpha beta gamma"},
		{"stems", "We migrated it; migrations done, migrating", "migrate", "We **migrated** it; **migrations** done, **migrating**"},
		{"plural", "one query, two queries", "queries", "one **query**, two **queries**"},
		{"case", "POSTGRES and Postgres", "postgres", "**POSTGRES** and **Postgres**"},
		{"cut around the match", long + "the needle sits here " + long, "needle",
			// 24 words, the match in the middle
			"…ipsum dolor lorem ipsum dolor lorem ipsum dolor lorem ipsum dolor the **needle** sits here lorem ipsum dolor lorem ipsum dolor lorem ipsum dolor…"},
		{"match at the start", "needle " + long, "needle",
			"**needle** lorem ipsum dolor lorem ipsum dolor lorem ipsum dolor lorem ipsum dolor lorem ipsum dolor lorem ipsum dolor lorem ipsum dolor lorem ipsum…"},
		{"punctuation only", "!!! ???", "x", "!!! ???"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := makeSnippet(tt.content, parseSearchText(tt.text)); got != tt.want {
				t.Errorf("makeSnippet = %q\nwant            %q", got, tt.want)
			}
		})
	}
	// Content larger than what is scanned: cut, and still valid UTF-8.
	huge := strings.Repeat("é", snippetScan) + " tail"
	if got := makeSnippet(huge, parseSearchText("tail")); !strings.HasSuffix(got, ellipsis) || strings.Contains(got, "tail") {
		t.Errorf("snippet of huge content ends %q", got[max(0, len(got)-20):])
	}
}

// With a small rank budget, a search that matches too much is narrowed to
// its rarer terms, or returns its matches newest first.
func TestSearchBudget(t *testing.T) {
	SetRankBudget(t, 10)
	SetRecencyScan(t, 7)
	s := MustOpen(t)
	ctx := context.Background()
	var even []string // ids of the "common" entries in conversation even, newest first
	for i := range 30 {
		conv := []string{"even", "odd"}[i%2]
		e, err := s.Store(ctx, NewEntry{Content: fmt.Sprintf("common word %d", i), ConversationID: conv})
		if err != nil {
			t.Fatal(err)
		}
		if conv == "even" {
			even = append([]string{e.ID}, even...)
		}
	}
	rare, err := s.Store(ctx, NewEntry{Content: "common and rare"})
	if err != nil {
		t.Fatal(err)
	}
	page, err := s.Search(ctx, SearchQuery{Text: "common rare", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Hits) != 1 || page.Hits[0].Entry.ID != rare.ID || page.Ranking != RankingRelevance {
		t.Errorf("%d hits in %s order, want only the rare entry, by relevance", len(page.Hits), page.Ranking)
	}
	if d := cmp.Diff([]string{"common"}, page.IgnoredTerms); d != "" {
		t.Errorf("IgnoredTerms (-want +got):\n%s", d)
	}

	page, err = s.Search(ctx, SearchQuery{Text: "common", Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if page.Ranking != RankingRecency || len(page.IgnoredTerms) != 0 || len(page.Hits) == 0 || page.Hits[0].Entry.ID != rare.ID {
		t.Fatalf("ranking %s, ignored %v, %d hits; want recency, none, the newest first", page.Ranking, page.IgnoredTerms, len(page.Hits))
	}

	// Paging in recency order with a filter: pages may be short, but every
	// match comes exactly once, newest first.
	var got []string
	q := SearchQuery{Text: "common", Limit: 3, Filter: Filter{ConversationID: "even"}}
	for pages := 0; ; pages++ {
		if pages > 40 {
			t.Fatal("paging does not end")
		}
		page, err := s.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Hits) > 3 {
			t.Fatalf("%d hits, limit 3", len(page.Hits))
		}
		for _, h := range page.Hits {
			got = append(got, h.Entry.ID)
			if h.Score != 0 || !strings.Contains(h.Snippet, "**common**") {
				t.Errorf("hit score %v, snippet %q", h.Score, h.Snippet)
			}
		}
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	if d := cmp.Diff(even, got); d != "" {
		t.Errorf("paged ids (-want +got):\n%s", d)
	}

	// Hostile text through the narrowing too.
	for _, text := range []string{`common "rare" AND (`, `"common`, `common OR NOT rare*`, `NEAR(common rare)`} {
		if _, err := s.Search(ctx, SearchQuery{Text: text}); err != nil {
			t.Errorf("Search(%q): %v", text, err)
		}
	}
}
