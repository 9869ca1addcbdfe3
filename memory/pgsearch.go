package memory

import (
	"context"
	"math"
	"strconv"
	"strings"
)

// Search finds entries by the words of q.Text, as Search on SQLite does,
// through PostgreSQL's full-text search: a tsvector of each entry's
// content and tags (English stemming, accents removed, no stop words),
// every term of the text (a word, or a quoted phrase) a phraseto_tsquery,
// any of them matching.
//
// Ranking differs from SQLite's: ts_rank has no inverse document
// frequency, so a rare word does not outweigh a common one as it does in
// BM25; it counts how often the terms occur, a tag twice a word of the
// content. The score is that rank times the same importance factor
// (0.75 + 0.5 × importance). The switch to newest-first for text that
// matches very many entries, the budget, the ignored terms and the
// cursors are the same.
func (s *Postgres) Search(ctx context.Context, q SearchQuery) (SearchPage, error) {
	if err := s.checkOpen(); err != nil {
		return SearchPage{}, err
	}
	plan, err := planSearch(ctx, q, s.countMatches)
	if err != nil {
		return SearchPage{}, err
	}
	return searchPage(ctx, s, plan)
}

// tsQuery is the tsquery matching any of terms, its texts added to args.
func tsQuery(terms []searchTerm, args *pgArgs) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = `phraseto_tsquery('pbatunnel_search', ` + args.add(strings.Join(t.words, " ")) + `)`
	}
	return "(" + strings.Join(parts, " || ") + ")"
}

func (s *Postgres) searchRanked(ctx context.Context, plan searchPlan, page *SearchPage) error {
	var args pgArgs
	query := tsQuery(plan.terms, &args)
	conds := plan.filter.pgWhere(s.now().UnixMilli(), &args)
	keyset := ""
	if plan.after != nil {
		sc := math.Float64frombits(plan.after.key)
		keyset = ` WHERE (score, seq) < (` + args.add(sc) + `::float8, ` + args.add(plan.after.seq) + `)`
	}
	stmt := `SELECT ` + entryCols + `, h.score FROM (
			SELECT seq, score FROM (
				SELECT e.seq, ts_rank(e.document, ` + query + `)::float8 * (0.75 + 0.5 * e.importance) AS score
				FROM entries e
				WHERE e.document @@ ` + query + ` AND ` + pgAnd(conds) + `
			) m` + keyset + `
			ORDER BY score DESC, seq DESC LIMIT ` + strconv.Itoa(plan.limit+1) + `
		) h JOIN entries e ON e.seq = h.seq
		ORDER BY h.score DESC, h.seq DESC`
	h := newHitPage(pgScanEntry, plan, page)
	err := s.query(ctx, s.pool, stmt, args, h.rankedRows())
	if err == nil {
		h.endRanked()
	}
	return err
}

// searchRecent lists the matches newest first, looking at no more than
// recencyScan of the newest matching entries per page, as on SQLite.
func (s *Postgres) searchRecent(ctx context.Context, plan searchPlan, page *SearchPage) error {
	var wargs pgArgs
	window := `SELECT seq FROM entries WHERE document @@ ` + tsQuery(plan.terms, &wargs)
	if plan.after != nil {
		window += ` AND seq < ` + wargs.add(plan.after.seq)
	}
	window += ` ORDER BY seq DESC LIMIT ` + strconv.Itoa(recencyScan)

	args := append(pgArgs{}, wargs...)
	conds := plan.filter.pgWhere(s.now().UnixMilli(), &args)
	stmt := `SELECT ` + entryCols + ` FROM (` + window + `) w
		JOIN entries e ON e.seq = w.seq
		WHERE ` + pgAnd(conds) + `
		ORDER BY w.seq DESC LIMIT ` + strconv.Itoa(plan.limit+1)
	h := newHitPage(pgScanEntry, plan, page)
	if err := s.query(ctx, s.pool, stmt, args, h.recentRows()); err != nil {
		return err
	}
	// As on SQLite: a window that was full may hide older matches.
	return h.endRecent(func(scanned *int, lowest **int64) error {
		return s.queryRow(ctx, s.pool, `SELECT count(*), min(seq) FROM (`+window+`) w`, wargs, scanned, lowest)
	})
}

// countMatches counts the entries any of terms matches, up to one more
// than the budget.
func (s *Postgres) countMatches(ctx context.Context, terms []searchTerm) (int, error) {
	var args pgArgs
	query := tsQuery(terms, &args)
	var n int
	err := s.queryRow(ctx, s.pool, `SELECT count(*) FROM (SELECT 1 FROM entries WHERE document @@ `+query+
		` LIMIT `+strconv.Itoa(rankBudget+1)+`) m`, args, &n)
	return n, err
}
