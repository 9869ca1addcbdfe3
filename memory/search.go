package memory

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// A SearchQuery finds entries by the words of Text, best match first.
type SearchQuery struct {
	// Text is what to look for: words, and "quoted phrases" that must
	// occur as written. Nothing in it is operator syntax; an entry matching
	// any term is a match, and entries matching more, or rarer, terms rank
	// higher.
	Text string `json:"text"`
	Filter
	Limit  int    `json:"limit,omitempty"`  // default 20, at most 100
	Cursor string `json:"cursor,omitempty"` // a previous page's NextCursor
}

// A Hit is one entry found by Search.
type Hit struct {
	Entry Entry `json:"entry"`
	// Score ranks the hits, higher first: BM25 relevance (see Search)
	// times an importance factor between 0.75 and 1.25.
	Score float64 `json:"score"`
	// Snippet is about two dozen words of the content around the matching
	// words, which are marked **like this**.
	Snippet string `json:"snippet"`
}

// A SearchPage is one page of search results.
type SearchPage struct {
	Hits       []Hit  `json:"hits"`
	NextCursor string `json:"next_cursor,omitempty"`
	// IgnoredTerms are terms of the text that were not searched for: terms
	// beyond MaxSearchTerms, and, when the text also has rarer terms, terms
	// so common that ranking on them would cost more than it tells.
	IgnoredTerms []string `json:"ignored_terms,omitempty"`
	// RecentWindow, when not zero, says that every term was very common and
	// only the RecentWindow most recently stored matches were ranked.
	RecentWindow int `json:"recent_window,omitempty"`
}

// rankBudget bounds the matches one search ranks. FTS5 computes BM25 for
// every match before the best can be picked, about 2 µs each here, so a
// term found in half of 100 000 entries would cost 100 ms. Searches that
// match more are narrowed as Search describes. A variable so that tests can
// exercise the narrowing on a small database.
var rankBudget = 2000

// BM25 weights of the indexed columns: a tag is a deliberate label, so a
// word found in the tags counts as much as two in the content.
const (
	weightContent = 1.0
	weightTags    = 2.0
)

// Search finds live entries by full-text search over their content and
// tags, within the filters, best first.
//
// Ranking: FTS5's BM25 (k1 = 1.2, b = 0.75) over content and tags
// (weights 1 and 2), sign flipped so that higher is better, times
// (0.75 + 0.5 × importance): an entry of importance 1 outranks an equally
// relevant one of importance 0 by a factor of 5/3, but a clearly better
// match still wins. Ties go to the newer entry.
//
// Cost is bounded. A text whose terms together match at most rankBudget
// entries is ranked exactly. Otherwise its terms are taken rarest first
// while their matches fit the budget, and the rest are reported in
// IgnoredTerms (they are the least informative: BM25 weighs a term by its
// rarity, and gives nothing at all to one found in over half the entries).
// If even the rarest term matches more than the budget, the most recent
// rankBudget matches are ranked (RecentWindow).
//
// Text with no letters or digits matches nothing; empty text is invalid.
func (s *Store) Search(ctx context.Context, q SearchQuery) (SearchPage, error) {
	if err := s.checkOpen(); err != nil {
		return SearchPage{}, err
	}
	plan, err := s.planSearch(ctx, q)
	if err != nil {
		return SearchPage{}, err
	}
	page := SearchPage{Hits: []Hit{}, IgnoredTerms: plan.ignored, RecentWindow: plan.window}
	if plan.match == "" {
		return page, nil
	}

	conds, args := plan.filter.where(s.now().UnixMilli())
	inner := `SELECT entries_fts.rowid AS seq,
			-bm25(entries_fts, ` + formatFloat(weightContent) + `, ` + formatFloat(weightTags) + `) * (0.75 + 0.5 * e.importance) AS score
		FROM entries_fts CROSS JOIN entries e ON e.seq = entries_fts.rowid
		WHERE entries_fts MATCH ? AND ` + strings.Join(conds, " AND ")
	args = append([]any{plan.match}, args...)
	if plan.window > 0 {
		inner += ` ORDER BY entries_fts.rowid DESC LIMIT ` + strconv.Itoa(plan.window)
	} else {
		// A LIMIT keeps SQLite from flattening this query into the outer
		// one, where it would compute bm25() again for each use of score.
		inner += ` LIMIT -1`
	}
	keyset := ""
	if plan.after != nil {
		keyset = ` WHERE score < ? OR (score = ? AND seq < ?)`
		sc := math.Float64frombits(plan.after.key)
		args = append(args, sc, sc, plan.after.seq)
	}
	// The CROSS JOINs fix the join order: the full-text index drives, and
	// the entry table is only looked up by rowid.
	stmt := `SELECT ` + entryCols + `, h.score FROM (
			SELECT seq, score FROM (` + inner + `)` + keyset + `
			ORDER BY score DESC, seq DESC LIMIT ` + strconv.Itoa(plan.limit+1) + `
		) h CROSS JOIN entries e ON e.seq = h.seq
		ORDER BY h.score DESC, h.seq DESC`

	var lastSeq int64
	var lastScore float64
	more := false
	err = s.query(ctx, s.db, stmt, args, func(rows *sql.Rows) error {
		if len(page.Hits) == plan.limit {
			more = true
			return nil
		}
		var score float64
		e, seq, err := scanEntry(scanPlus{rows, &score})
		if err != nil {
			return err
		}
		page.Hits = append(page.Hits, Hit{Entry: e, Score: score, Snippet: makeSnippet(e.Content, plan.terms)})
		lastSeq, lastScore = seq, score
		return nil
	})
	if err != nil {
		return SearchPage{}, fmt.Errorf("searching: %w", err)
	}
	if more {
		page.NextCursor = cursor{kind: cursorSearch, fingerprint: plan.fingerprint,
			key: math.Float64bits(lastScore), seq: lastSeq}.String()
	}
	return page, nil
}

// searchPlan is a validated search and how it will run.
type searchPlan struct {
	filter      Filter
	limit       int
	terms       []searchTerm // searched for
	ignored     []string
	match       string // the FTS5 query; empty: nothing can match
	window      int    // rank only the most recent window matches; 0: all
	fingerprint uint64
	after       *cursor
}

func (s *Store) planSearch(ctx context.Context, q SearchQuery) (searchPlan, error) {
	var p searchPlan
	if strings.TrimSpace(q.Text) == "" {
		return p, invalidf("invalid text: required, and not only white space")
	}
	if len(q.Text) > MaxSearchTextBytes {
		return p, invalidf("invalid text: %d bytes; at most %d", len(q.Text), MaxSearchTextBytes)
	}
	var err error
	if p.filter, err = q.Filter.validate(); err != nil {
		return p, err
	}
	if p.limit, err = checkLimit(q.Limit); err != nil {
		return p, err
	}
	terms := parseSearchText(q.Text)
	if len(terms) > MaxSearchTerms {
		for _, t := range terms[MaxSearchTerms:] {
			p.ignored = append(p.ignored, t.String())
		}
		terms = terms[:MaxSearchTerms]
	}
	// The cursor belongs to the text as parsed, so that "Foo  bar" and
	// "foo bar" share cursors, and to the filters.
	fp, sum := newFingerprint()
	fp.str(ftsOr(terms))
	p.filter.hash(fp)
	p.fingerprint = sum()
	if q.Cursor != "" {
		c, err := parseCursor(q.Cursor, cursorSearch, p.fingerprint)
		if err != nil {
			return p, err
		}
		p.after = &c
	}
	if len(terms) == 0 {
		return p, nil
	}
	p.terms, p.match = terms, ftsOr(terms)

	// Within budget? Counting matches, unranked, costs ~50 ns each, and
	// stops at the budget.
	n, err := s.countMatches(ctx, p.match)
	if err != nil {
		return p, fmt.Errorf("searching: %w", err)
	}
	if n <= rankBudget {
		return p, nil
	}
	counts := make([]int, len(terms))
	order := make([]int, len(terms))
	for i, t := range terms {
		if counts[i], err = s.countMatches(ctx, t.fts()); err != nil {
			return p, fmt.Errorf("searching: %w", err)
		}
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return counts[order[a]] < counts[order[b]] })
	if counts[order[0]] > rankBudget {
		p.window = rankBudget
		return p, nil
	}
	var kept []searchTerm
	sum2 := 0
	for _, i := range order {
		if len(kept) == 0 || sum2+counts[i] <= rankBudget {
			kept = append(kept, terms[i])
			sum2 += counts[i]
		} else {
			p.ignored = append(p.ignored, terms[i].String())
		}
	}
	p.terms, p.match = kept, ftsOr(kept)
	return p, nil
}

// countMatches counts the entries an FTS5 query matches, up to one more
// than rankBudget.
func (s *Store) countMatches(ctx context.Context, match string) (int, error) {
	var n int
	err := s.queryRow(ctx, s.db, `SELECT count(*) FROM (SELECT 1 FROM entries_fts WHERE entries_fts MATCH ? LIMIT ?)`,
		[]any{match, rankBudget + 1}, &n)
	return n, err
}
