package memory

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// A SearchQuery finds entries by the words of Text.
type SearchQuery struct {
	// Text is what to look for: words, and "quoted phrases" that must
	// occur as written. Nothing in it is operator syntax. An entry matching
	// any term is a match; entries matching more, or rarer, terms rank
	// higher.
	Text string `json:"text"`
	Filter
	Limit  int    `json:"limit,omitempty"`  // default 20, at most 100
	Cursor string `json:"cursor,omitempty"` // a previous page's NextCursor
}

// A Hit is one entry found by Search.
type Hit struct {
	Entry Entry `json:"entry"`
	// Score orders the hits, higher first, when the page's Ranking is
	// RankingRelevance: BM25 relevance times an importance factor between
	// 0.75 and 1.25 (see Search). 0 when Ranking is RankingRecency.
	Score float64 `json:"score"`
	// Snippet is about two dozen words of the content around the matching
	// words, which are marked **like this**.
	Snippet string `json:"snippet"`
}

// How a SearchPage is ordered.
const (
	// RankingRelevance: best match first.
	RankingRelevance = "relevance"
	// RankingRecency: every term of the text is in so many entries that
	// ranking them would cost too much and tell little; the matches come
	// most recently stored first.
	RankingRecency = "recency"
)

// A SearchPage is one page of search results.
type SearchPage struct {
	Hits []Hit `json:"hits"`
	// NextCursor fetches the next page; empty on the last page. In recency
	// order a page may hold fewer hits than the limit, even none, and still
	// have a next page: each page looks at a bounded number of matches, and
	// a filter may reject all of them. Only an empty NextCursor means there
	// is nothing more.
	NextCursor string `json:"next_cursor,omitempty"`
	// Ranking is RankingRelevance or RankingRecency.
	Ranking string `json:"ranking"`
	// IgnoredTerms are terms of the text that were not searched for: terms
	// beyond MaxSearchTerms and, when the text also has rarer terms, terms
	// found in so many entries that ranking on them would cost more than
	// it tells.
	IgnoredTerms []string `json:"ignored_terms,omitempty"`
}

// rankBudget bounds the matches one search ranks by relevance. FTS5
// computes BM25 for every match, and counts every entry holding each term
// to weigh it, before the best can be picked: a few microseconds per match
// here, so a term found in half of 100 000 entries would cost well over
// 100 ms. A variable so that tests can exercise the narrowing on a small
// database.
var rankBudget = 1500

// recencyScan bounds the matches one page in recency order looks at, so
// that a filter few of the matches pass cannot make a page scan them all.
var recencyScan = 8 * rankBudget

// BM25 weights of the indexed columns: a tag is a deliberate label, so a
// word found in the tags counts as much as two in the content.
const (
	weightContent = 1.0
	weightTags    = 2.0
)

// Search finds live entries by full-text search over their content and
// tags, within the filters.
//
// Ranking (RankingRelevance): FTS5's BM25 (k1 = 1.2, b = 0.75) over
// content and tags (weights 1 and 2), sign flipped so that higher is
// better, times (0.75 + 0.5 × importance): an entry of importance 1
// outranks an equally relevant one of importance 0 by a factor of 5/3, but
// a clearly better match still wins. Ties go to the more recently stored
// entry.
//
// Cost is bounded. A text whose terms together match at most rankBudget
// entries is ranked on all of them. Otherwise its terms are taken rarest
// first while their matches fit the budget, and the rest are left out and
// reported in IgnoredTerms: they are the least informative, as BM25 weighs
// a term by its rarity (and gives nothing at all to one found in over half
// of the entries). If even the rarest term matches more than the budget,
// the matches of the whole text come most recently stored first
// (RankingRecency), which costs little however many there are.
//
// Text with no letters or digits matches nothing; empty text is invalid.
func (s *SQLite) Search(ctx context.Context, q SearchQuery) (SearchPage, error) {
	if err := s.checkOpen(); err != nil {
		return SearchPage{}, err
	}
	plan, err := s.planSearch(ctx, q)
	if err != nil {
		return SearchPage{}, err
	}
	return searchPage(ctx, s, plan)
}

// searchRanked fills page with the best matches after the cursor.
func (s *SQLite) searchRanked(ctx context.Context, plan searchPlan, page *SearchPage) error {
	conds, args := plan.filter.where(s.now().UnixMilli())
	args = append([]any{plan.match}, args...)
	keyset := ""
	if plan.after != nil {
		keyset = ` WHERE score < ? OR (score = ? AND seq < ?)`
		sc := math.Float64frombits(plan.after.key)
		args = append(args, sc, sc, plan.after.seq)
	}
	// Scored candidates are sorted as (seq, score) pairs, and only the
	// page's rows are then read whole. The CROSS JOINs fix the join order:
	// the full-text index drives, the entry table is looked up by rowid.
	// LIMIT -1 keeps SQLite from flattening the scoring query into the
	// outer one, where it would compute bm25() again for each use of score.
	stmt := `SELECT ` + entryCols + `, h.score FROM (
			SELECT seq, score FROM (
				SELECT entries_fts.rowid AS seq,
					-bm25(entries_fts, ` + formatFloat(weightContent) + `, ` + formatFloat(weightTags) + `)
						* (0.75 + 0.5 * e.importance) AS score
				FROM entries_fts CROSS JOIN entries e ON e.seq = entries_fts.rowid
				WHERE entries_fts MATCH ? AND ` + strings.Join(conds, " AND ") + `
				LIMIT -1
			)` + keyset + `
			ORDER BY score DESC, seq DESC LIMIT ` + strconv.Itoa(plan.limit+1) + `
		) h CROSS JOIN entries e ON e.seq = h.seq
		ORDER BY h.score DESC, h.seq DESC`
	h := newHitPage(scanEntry, plan, page)
	err := s.query(ctx, s.db, stmt, args, h.rankedRows())
	if err == nil {
		h.endRanked()
	}
	return err
}

// searchRecent fills page with the most recently stored matches before the
// cursor, looking at no more than recencyScan matches. The full-text index
// yields its matches by descending rowid without ranking them, so a page
// costs about a microsecond per match looked at.
func (s *SQLite) searchRecent(ctx context.Context, plan searchPlan, page *SearchPage) error {
	window := `SELECT rowid AS seq FROM entries_fts WHERE entries_fts MATCH ?`
	wargs := []any{plan.match}
	if plan.after != nil {
		window += ` AND rowid < ?`
		wargs = append(wargs, plan.after.seq)
	}
	window += ` ORDER BY rowid DESC LIMIT ` + strconv.Itoa(recencyScan)

	conds, args := plan.filter.where(s.now().UnixMilli())
	stmt := `SELECT ` + entryCols + ` FROM (` + window + `) w
		CROSS JOIN entries e ON e.seq = w.seq
		WHERE ` + strings.Join(conds, " AND ") + `
		ORDER BY w.seq DESC LIMIT ` + strconv.Itoa(plan.limit+1)
	h := newHitPage(scanEntry, plan, page)
	if err := s.query(ctx, s.db, stmt, append(wargs, args...), h.recentRows()); err != nil {
		return err
	}
	// A short page: either the matches ran out, or the scan bound was
	// reached first and the next page goes on below the window.
	return h.endRecent(func(scanned *int, lowest **int64) error {
		return s.queryRow(ctx, s.db, `SELECT count(*), min(seq) FROM (`+window+`)`, wargs, scanned, lowest)
	})
}

// searchPlan is a validated search and how it will run.
type searchPlan struct {
	filter      Filter
	limit       int
	terms       []searchTerm // searched for
	ignored     []string
	match       string // the FTS5 query; empty: nothing can match
	ranking     string
	fingerprint uint64
	after       *cursor
}

func (s *SQLite) planSearch(ctx context.Context, q SearchQuery) (searchPlan, error) {
	return planSearch(ctx, q, func(ctx context.Context, terms []searchTerm) (int, error) {
		return s.countMatches(ctx, ftsOr(terms))
	})
}

// planSearch is the plan of every backend: count says how many entries
// match any of terms, counting up to rankBudget+1.
func planSearch(ctx context.Context, q SearchQuery, count func(ctx context.Context, terms []searchTerm) (int, error)) (searchPlan, error) {
	p := searchPlan{ranking: RankingRelevance}
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
		c, err := parseCursor(q.Cursor, p.fingerprint, cursorSearch, cursorRecent)
		if err != nil {
			return p, err
		}
		p.after = &c
	}
	if len(terms) == 0 {
		return p, nil
	}
	p.terms, p.match = terms, ftsOr(terms)
	// Paging goes on in the order it began in, even if writes between pages
	// have moved the counts below across the budget.
	if p.after != nil && p.after.kind == cursorRecent {
		p.ranking = RankingRecency
		return p, nil
	}

	// Within budget? Counting matches, unranked, costs well under a
	// microsecond each, and stops at the budget.
	n, err := count(ctx, terms)
	if err != nil {
		return p, fmt.Errorf("searching: %w", err)
	}
	if n <= rankBudget {
		return p, nil
	}
	counts := make([]int, len(terms))
	order := make([]int, len(terms))
	for i := range terms {
		if counts[i], err = count(ctx, terms[i:i+1]); err != nil {
			return p, fmt.Errorf("searching: %w", err)
		}
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return counts[order[a]] < counts[order[b]] })
	if counts[order[0]] > rankBudget && p.after == nil {
		p.ranking = RankingRecency
		return p, nil
	}
	// (With a cursor of relevance order, the rarest term is kept even if it
	// now matches a little more than the budget.)
	var kept []searchTerm
	total := 0
	for _, i := range order {
		if len(kept) == 0 || total+counts[i] <= rankBudget {
			kept = append(kept, terms[i])
			total += counts[i]
		} else {
			p.ignored = append(p.ignored, terms[i].String())
		}
	}
	p.terms, p.match = kept, ftsOr(kept)
	return p, nil
}

// countMatches counts the entries an FTS5 query matches, up to one more
// than rankBudget.
func (s *SQLite) countMatches(ctx context.Context, match string) (int, error) {
	var n int
	err := s.queryRow(ctx, s.db, `SELECT count(*) FROM (SELECT 1 FROM entries_fts WHERE entries_fts MATCH ? LIMIT ?)`,
		[]any{match, rankBudget + 1}, &n)
	return n, err
}
