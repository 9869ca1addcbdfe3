package memory_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-pba-tunnel/pbatunnel/memory"
)

// filler stores entries that match none of the test words, so that BM25
// sees the test words as rare, as they would be in a real store (FTS5
// gives no weight at all to a word found in over half of the entries).
func filler(tb testing.TB, s memory.Store, n int) {
	tb.Helper()
	for i := range n {
		mustStore(tb, s, memory.NewEntry{Content: fmt.Sprintf("unrelated note number %d about lunch", i)})
	}
}

func TestSearchRanking(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		filler(t, s, 20)
		three := mustStore(t, s, memory.NewEntry{Content: "postgres connection pool timeout after the upgrade"})
		two := mustStore(t, s, memory.NewEntry{Content: "postgres connection string lives in the vault"})
		one := mustStore(t, s, memory.NewEntry{Content: "postgres is the main database"})
		mustStore(t, s, memory.NewEntry{Content: "nothing relevant here"})

		page, err := s.Search(bg, memory.SearchQuery{Text: "postgres connection timeout"})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(idsOf(three, two, one), hitIDs(page.Hits)); d != "" {
			t.Errorf("more matching terms should rank higher (-want +got):\n%s", d)
		}
		for i := 1; i < len(page.Hits); i++ {
			if page.Hits[i].Score > page.Hits[i-1].Score {
				t.Errorf("hit %d scores %v, above hit %d's %v", i, page.Hits[i].Score, i-1, page.Hits[i-1].Score)
			}
		}
		if !strings.Contains(page.Hits[0].Snippet, "**timeout**") {
			t.Errorf("snippet %q does not mark the matching word", page.Hits[0].Snippet)
		}
	})
}

func TestSearchImportanceBoost(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		filler(t, s, 10)
		low := mustStore(t, s, memory.NewEntry{Content: "deploy with make release", Importance: ptr(0.0)})
		high := mustStore(t, s, memory.NewEntry{Content: "deploy with make release", Importance: ptr(1.0)})
		mid := mustStore(t, s, memory.NewEntry{Content: "deploy with make release"})
		page, err := s.Search(bg, memory.SearchQuery{Text: "deploy"})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(idsOf(high, mid, low), hitIDs(page.Hits)); d != "" {
			t.Errorf("equally relevant entries should rank by importance (-want +got):\n%s", d)
		}
		if r := page.Hits[0].Score / page.Hits[2].Score; r < 1.66 || r > 1.67 {
			t.Errorf("importance 1 over importance 0 = %v, want 5/3", r)
		}
	})
}

func TestSearchLanguage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		filler(t, s, 10)
		stem := mustStore(t, s, memory.NewEntry{Content: "We migrated the schema last week."})
		accent := mustStore(t, s, memory.NewEntry{Content: "Meeting at the Café Royal"})
		phrase := mustStore(t, s, memory.NewEntry{Content: "the error budget is spent"})
		words := mustStore(t, s, memory.NewEntry{Content: "budget for the error handling work"})
		tagged := mustStore(t, s, memory.NewEntry{Content: "see the runbook", Tags: []string{"kubernetes"}})
		tests := []struct {
			text string
			want []string
		}{
			{"migrations", idsOf(stem)},
			{"MIGRATING", idsOf(stem)},
			{"cafe", idsOf(accent)},
			{`"error budget"`, idsOf(phrase)},
			{"kubernetes", idsOf(tagged)},
		}
		for _, tt := range tests {
			page, err := s.Search(bg, memory.SearchQuery{Text: tt.text})
			if err != nil {
				t.Fatalf("%q: %v", tt.text, err)
			}
			if d := sameSet(tt.want, hitIDs(page.Hits)); d != "" {
				t.Errorf("%q (-want +got):\n%s", tt.text, d)
			}
		}
		page, err := s.Search(bg, memory.SearchQuery{Text: "error budget"})
		if err != nil {
			t.Fatal(err)
		}
		if d := sameSet(idsOf(phrase, words), hitIDs(page.Hits)); d != "" {
			t.Errorf("unquoted words match anywhere (-want +got):\n%s", d)
		}
	})
}

// Nothing a user types is FTS5 syntax, so no text is a syntax error.
func TestSearchHostileText(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		cpp := mustStore(t, s, memory.NewEntry{Content: "C++ templates and the C preprocessor"})
		mustStore(t, s, memory.NewEntry{Content: "AND OR NOT NEAR are just words here"})
		filler(t, s, 5)
		texts := []string{
			`C++ "quoted" AND OR (`,
			`"`, `""`, `"""`, `" "`, `(`, `)`, `()`, `*`, `a*`, `^a`, `+`, `-x`, `NOT`, `AND`, `OR`, `NEAR(a b, 3)`,
			`content:C`, `{content tags}: x`, `tags:`, `:`, `'`, `''`, `\`, `\"`, `%`, `_`, `;DROP TABLE entries;--`,
			`a OR`, `OR a`, `a AND NOT b`, `"unclosed phrase`, `x" y "z`, "tab\there", "new\nline",
			`🙂`, `日本語`, `ﬁ ligature`, "combining e\u0301", "\u200b", "\ufeff", `©®™`, `1e10`, `0x1F`, `-1`,
			strings.Repeat("(", 500), strings.Repeat(`"a" `, 200), strings.Repeat("word ", 200),
		}
		for _, text := range texts {
			page, err := s.Search(bg, memory.SearchQuery{Text: text})
			if err != nil {
				t.Errorf("Search(%q): %v", text, err)
				continue
			}
			if page.Hits == nil {
				t.Errorf("Search(%q): nil hits, want an empty list", text)
			}
		}
		page, err := s.Search(bg, memory.SearchQuery{Text: `C++ "quoted" AND OR (`})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(hitIDs(page.Hits), cpp.ID) {
			t.Errorf("the C++ entry is not among %v", hitIDs(page.Hits))
		}
	})
}

// Content of the largest size made of distinct words (a hex dump, a log
// of ids) is stored, updated and found by its words like any other: its
// index in PostgreSQL, a tsvector, is limited to 1 MB, less than such a
// text's, and the statement must not fail on it.
func TestSearchManyDistinctWords(t *testing.T) {
	var b strings.Builder
	b.WriteString("aardvark ")
	for i := 0; b.Len() < memory.MaxContentBytes-16; i++ {
		fmt.Fprintf(&b, "w%07x ", i*7919)
	}
	content := b.String()
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		e := mustStore(t, s, memory.NewEntry{Content: content, Tags: []string{"zebra"}})
		small := mustStore(t, s, memory.NewEntry{Content: "a small one"})
		if _, err := s.Update(bg, small.ID, memory.Patch{Content: ptr("yak " + strings.TrimPrefix(content, "aardvark "))}); err != nil {
			t.Fatalf("Update to many distinct words: %v", err)
		}
		if got, err := s.Get(bg, e.ID); err != nil || got.Content != content {
			t.Fatalf("Get: %d bytes, %v", len(got.Content), err)
		}
		for _, tt := range []struct{ text, want string }{{"aardvark", e.ID}, {"zebra", e.ID}, {"yak", small.ID}} {
			page, err := s.Search(bg, memory.SearchQuery{Text: tt.text})
			if err != nil || !slices.Equal(hitIDs(page.Hits), []string{tt.want}) {
				t.Errorf("Search(%q) = %v, %v; want [%s]", tt.text, hitIDs(page.Hits), err, tt.want)
			}
		}
	})
}

func TestSearchTooManyTerms(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		var words, want []string
		for i := range memory.MaxSearchTerms + 8 {
			w := fmt.Sprint("w", i)
			words = append(words, w, w) // repeats count once
			if i >= memory.MaxSearchTerms {
				want = append(want, w)
			}
		}
		mustStore(t, s, memory.NewEntry{Content: "only w39 here"})
		first := mustStore(t, s, memory.NewEntry{Content: "only w0 here"})
		page, err := s.Search(bg, memory.SearchQuery{Text: strings.Join(words, " ")})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, page.IgnoredTerms); d != "" {
			t.Errorf("IgnoredTerms (-want +got):\n%s", d)
		}
		if d := cmp.Diff(idsOf(first), hitIDs(page.Hits)); d != "" {
			t.Errorf("only the first %d terms are searched (-want +got):\n%s", memory.MaxSearchTerms, d)
		}
	})
}

func TestSearchInvalid(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		for range 3 {
			mustStore(t, s, memory.NewEntry{Content: "cursor material", ConversationID: "c"})
		}
		page, err := s.Search(bg, memory.SearchQuery{Text: "cursor", Limit: 1})
		if err != nil || page.NextCursor == "" {
			t.Fatalf("first page: %v, cursor %q", err, page.NextCursor)
		}
		retrieve, err := s.Retrieve(bg, memory.Query{Limit: 1})
		if err != nil || retrieve.NextCursor == "" {
			t.Fatalf("retrieve: %v, cursor %q", err, retrieve.NextCursor)
		}
		tests := []struct {
			name string
			q    memory.SearchQuery
			msg  []string
		}{
			{"empty text", memory.SearchQuery{}, []string{"invalid text: required"}},
			{"blank text", memory.SearchQuery{Text: " \t\n"}, []string{"invalid text", "white space"}},
			{"text too long", memory.SearchQuery{Text: strings.Repeat("x", 1025)}, []string{"invalid text: 1025 bytes; at most 1024"}},
			{"limit", memory.SearchQuery{Text: "x", Limit: 1000}, []string{"invalid limit 1000"}},
			{"filter", memory.SearchQuery{Text: "x", Filter: memory.Filter{MinImportance: -1}}, []string{"invalid min_importance -1"}},
			{"cursor of other text", memory.SearchQuery{Text: "material", Cursor: page.NextCursor}, []string{"invalid cursor", "other filters"}},
			{"cursor of a retrieve", memory.SearchQuery{Text: "cursor", Cursor: retrieve.NextCursor}, []string{"invalid cursor", "issued by retrieve, not search"}},
			{"garbage cursor", memory.SearchQuery{Text: "cursor", Cursor: "%%%"}, []string{"invalid cursor"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.Search(bg, tt.q)
				checkErr(t, err, memory.ErrInvalid, tt.msg...)
			})
		}
		// The same words written differently share cursors.
		if _, err := s.Search(bg, memory.SearchQuery{Text: "  CURSOR ", Limit: 1, Cursor: page.NextCursor}); err != nil {
			t.Errorf("cursor with the same words: %v", err)
		}
	})
}

func TestSearchFilters(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		clock := memory.NewFakeClock()
		s := impl.open(t, memory.WithClock(memory.Options{}, clock.Now))
		filler(t, s, 10)
		t0 := clock.Now()
		a := mustStore(t, s, memory.NewEntry{Content: "redis cache eviction", ConversationID: "c1", SessionID: "s1", Tags: []string{"infra", "cache"}, Importance: ptr(0.9)})
		clock.Advance(time.Minute)
		b := mustStore(t, s, memory.NewEntry{Content: "redis cluster failover", ConversationID: "c2", ContextType: "incident", Tags: []string{"infra"}, Importance: ptr(0.2)})
		clock.Advance(time.Minute)
		c := mustStore(t, s, memory.NewEntry{Content: "redis is single threaded", ConversationID: "c1", SessionID: "s2"})
		clock.Advance(time.Minute)
		mustStore(t, s, memory.NewEntry{Content: "redis, expiring", ConversationID: "c1", TTL: time.Second})
		clock.Advance(time.Minute)

		tests := []struct {
			name string
			f    memory.Filter
			want []string
		}{
			{"none", memory.Filter{}, idsOf(a, b, c)},
			{"conversation", memory.Filter{ConversationID: "c1"}, idsOf(a, c)},
			{"session", memory.Filter{SessionID: "s2"}, idsOf(c)},
			{"context type", memory.Filter{ContextType: "incident"}, idsOf(b)},
			{"tags", memory.Filter{Tags: []string{"infra", "cache"}}, idsOf(a)},
			{"importance", memory.Filter{MinImportance: 0.5}, idsOf(a, c)},
			{"since", memory.Filter{Since: t0.Add(time.Minute)}, idsOf(b, c)},
			{"until", memory.Filter{Until: t0.Add(time.Minute)}, idsOf(a)},
			{"combined", memory.Filter{ConversationID: "c1", MinImportance: 0.8, Tags: []string{"cache"}}, idsOf(a)},
			{"nothing", memory.Filter{ConversationID: "c3"}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				page, err := s.Search(bg, memory.SearchQuery{Text: "redis", Filter: tt.f})
				if err != nil {
					t.Fatal(err)
				}
				if d := sameSet(tt.want, hitIDs(page.Hits)); d != "" {
					t.Errorf("(-want +got):\n%s", d)
				}
			})
		}
	})
}

// Paging through search results returns every match exactly once, in
// score order, including runs of equal scores.
func TestSearchPagination(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		filler(t, s, 50)
		want := map[string]bool{}
		for i := range 45 {
			// Five distinct scores, nine entries each: ties broken by seq.
			content := "paging " + strings.Repeat("filler word ", i%5) + "end"
			want[mustStore(t, s, memory.NewEntry{Content: content}).ID] = true
		}
		for _, limit := range []int{1, 4, 10, 45} {
			t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
				got := map[string]bool{}
				q := memory.SearchQuery{Text: "paging", Limit: limit}
				last := 1e300
				for pages := 0; ; pages++ {
					if pages > 50 {
						t.Fatal("paging does not end")
					}
					page, err := s.Search(bg, q)
					if err != nil {
						t.Fatal(err)
					}
					for _, h := range page.Hits {
						if got[h.Entry.ID] {
							t.Errorf("%s returned twice", h.Entry.ID)
						}
						got[h.Entry.ID] = true
						if h.Score > last {
							t.Errorf("score %v after %v", h.Score, last)
						}
						last = h.Score
					}
					if page.NextCursor == "" {
						break
					}
					q.Cursor = page.NextCursor
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("(-want +got):\n%s", d)
				}
			})
		}
	})
}

// The index follows every write: updates, deletes, clears.
func TestSearchFollowsWrites(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		filler(t, s, 10)
		e := mustStore(t, s, memory.NewEntry{Content: "alpha", ConversationID: "c", Tags: []string{"first"}})
		find := func(text string) []string {
			t.Helper()
			page, err := s.Search(bg, memory.SearchQuery{Text: text})
			if err != nil {
				t.Fatal(err)
			}
			return hitIDs(page.Hits)
		}
		if got := find("alpha"); len(got) != 1 {
			t.Fatalf("alpha: %v", got)
		}
		if _, err := s.Update(bg, e.ID, memory.Patch{Content: ptr("beta"), Tags: &[]string{"second"}}); err != nil {
			t.Fatal(err)
		}
		for text, want := range map[string]int{"alpha": 0, "first": 0, "beta": 1, "second": 1} {
			if got := find(text); len(got) != want {
				t.Errorf("after update, %q finds %v; want %d", text, got, want)
			}
		}
		if _, err := s.Update(bg, e.ID, memory.Patch{Importance: ptr(0.1)}); err != nil { // not indexed text
			t.Fatal(err)
		}
		if got := find("beta"); len(got) != 1 {
			t.Errorf("after an importance update, beta finds %v", got)
		}
		if _, err := s.Clear(bg, "c"); err != nil {
			t.Fatal(err)
		}
		if got := find("beta"); len(got) != 0 {
			t.Errorf("after clear, beta finds %v", got)
		}
	})
}
