package memory

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// SearchNodes returns the entities that match q, best first, and every
// relation with at least one end among them: the same entities, in the
// same order, with the same paging, as SQLite's SearchNodes.
//
// The entities come from two GIN indexes (see pgmigrations/0002_graph.sql):
// a term of three characters or more is looked up with LIKE through
// pg_trgm's, a term of one or two characters in the index of every such
// substring. Only the empty query reads every entity; and a long term in
// which pg_trgm finds no trigram (punctuation alone, say) reads the whole
// trigram index. The order is SQLite's BM25, worked out here from the
// same figures FTS5 uses (see pgNodeScorer). The one difference is the
// case folding: Go's here, for the matches and the figures; there Go's
// for the matches but FTS5's own for the index's candidates and the
// figures. The two disagree for a handful of characters (such as "İ"),
// where the order may differ, and SQLite's index may miss a match.
func (s *Postgres) SearchNodes(ctx context.Context, q NodeQuery) (GraphPage, error) {
	if err := s.checkOpen(); err != nil {
		return GraphPage{}, err
	}
	return searchNodes(ctx, s, q)
}

// searchText is the text of an entity that SearchNodes looks in, folded
// as nodeTerms folds the query: the name, the type and each observation,
// joined by observationSep, which none of them holds and no term
// matches, so that a match never spans two of them.
type searchText struct {
	text   string
	fields []string // name, type, each observation
}

func newSearchText(name, typ string, obs []string) searchText {
	fields := make([]string, 0, 2+len(obs))
	fields = append(fields, strings.ToLower(name), strings.ToLower(typ))
	for _, o := range obs {
		fields = append(fields, strings.ToLower(o))
	}
	return searchText{text: strings.Join(fields, observationSep), fields: fields}
}

// grams are the distinct substrings of one or two characters of the
// fields, sorted: what the index of short terms holds.
func (t searchText) grams() []string {
	set := map[string]struct{}{}
	for _, f := range t.fields {
		prev := -1
		for i, r := range f {
			n := utf8.RuneLen(r)
			set[f[i:i+n]] = struct{}{}
			if prev >= 0 {
				set[f[prev:i+n]] = struct{}{}
			}
			prev = i
		}
	}
	grams := make([]string, 0, len(set))
	for g := range set {
		grams = append(grams, g)
	}
	slices.Sort(grams)
	return grams
}

// tokens is the length of the entity in FTS5's trigram tokens, as SQLite's
// graph_fts counts it for BM25: a token per character but the last two of
// each of its three columns (name, type, the observations joined by the
// separator).
func (t searchText) tokens() int64 {
	obs := 0 // the observations and the separators between them
	for i, f := range t.fields[2:] {
		obs += utf8.RuneCountInString(f)
		if i > 0 {
			obs++
		}
	}
	return trigramTokens(utf8.RuneCountInString(t.fields[0])) + trigramTokens(utf8.RuneCountInString(t.fields[1])) +
		trigramTokens(obs)
}

func trigramTokens(runes int) int64 { return int64(max(0, runes-2)) }

// splitSearch splits the search column into the three columns of SQLite's
// graph_fts: name, type, and the observations joined by the separator.
func splitSearch(text string) (name, typ, obs string) {
	name, rest, _ := strings.Cut(text, observationSep)
	typ, obs, _ = strings.Cut(rest, observationSep)
	return name, typ, obs
}

// likeEscaper escapes LIKE's wildcards, and its escape character.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// likeContains is the LIKE pattern that matches the texts containing t.
func likeContains(t string) string { return "%" + likeEscaper.Replace(t) + "%" }

// pgNodeFilter is the condition that keeps the entities holding every
// term, and its arguments, numbered from $1: a LIKE for each long term
// (three characters or more) and one containment for the short ones.
func pgNodeFilter(long, short []string) (string, []any) {
	var conds []string
	var args []any
	for _, t := range long {
		args = append(args, likeContains(t))
		conds = append(conds, "search LIKE $"+strconv.Itoa(len(args)))
	}
	if len(short) > 0 {
		args = append(args, short)
		conds = append(conds, "grams @> $"+strconv.Itoa(len(args))+"::text[]")
	}
	if len(conds) == 0 {
		return "true", nil
	}
	return strings.Join(conds, " AND "), args
}

// splitTerms sorts terms into the long ones, which pg_trgm's index looks
// up and the ranking counts (those FTS5 looks up in SQLite), and the short
// ones; none says that no entity can match.
func splitTerms(terms []string) (long, short []string, none bool) {
	for _, t := range terms {
		switch {
		case strings.Contains(t, observationSep):
			return nil, nil, true
		case utf8.RuneCountInString(t) >= 3:
			long = append(long, t)
		default:
			short = append(short, t)
		}
	}
	return long, short, false
}

// nodeHits finds the entities holding every term. Without a long term
// every match scores 0, as in SQLite, and the page is cut in the query:
// creation order, after the cursor, limit+1 rows.
func (s *Postgres) nodeHits(ctx context.Context, terms []string, after *cursor, limit int) ([]nodeHit, error) {
	long, short, none := splitTerms(terms)
	hits := []nodeHit{}
	if none {
		return hits, nil
	}
	where, args := pgNodeFilter(long, short)
	if len(long) == 0 {
		query := `SELECT seq, name FROM graph_entities WHERE ` + where
		if after != nil && after.key == math.Float64bits(0) {
			args = append(args, after.seq)
			query += ` AND seq > $` + strconv.Itoa(len(args))
		}
		if len(short) > 0 {
			// The matches first, through the index, then their order:
			// else the planner may walk the whole table in seq order,
			// expecting a page of matches soon, and a rare term (or one
			// that matches nothing) reads every row.
			query = `WITH m AS MATERIALIZED (` + query + `) SELECT seq, name FROM m`
		}
		query += ` ORDER BY seq`
		if limit > 0 {
			args = append(args, limit+1)
			query += ` LIMIT $` + strconv.Itoa(len(args))
		}
		err := s.query(ctx, s.pool, query, args, func(rows rowScanner) error {
			var h nodeHit
			err := rows.Scan(&h.seq, &h.name)
			hits = append(hits, h)
			return err
		})
		return hits, err
	}
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		hits = hits[:0]
		var sc pgNodeScorer
		if err := s.queryRow(ctx, tx, `SELECT graph_entities, graph_tokens FROM store_stats WHERE id = 1`, nil,
			&sc.rows, &sc.tokens); err != nil {
			return err
		}
		type candidate struct {
			nodeHit
			search string
			tokens int64
		}
		var cands []candidate
		err := s.query(ctx, tx, `SELECT seq, name, search, tokens FROM graph_entities WHERE `+where, args,
			func(rows rowScanner) error {
				var c candidate
				err := rows.Scan(&c.seq, &c.name, &c.search, &c.tokens)
				cands = append(cands, c)
				return err
			})
		if err != nil {
			return err
		}
		sc.terms = long
		if sc.hits, err = s.termCounts(ctx, tx, long, short, len(cands)); err != nil {
			return err
		}
		for _, c := range cands {
			c.score = sc.score(c.search, c.tokens)
			hits = append(hits, c.nodeHit)
		}
		return nil
	})
	return hits, err
}

// termCounts returns, for each long term, the number of entities holding
// it, which its IDF depends on. When the one long term is the whole
// query, that is the number of matches, n.
func (s *Postgres) termCounts(ctx context.Context, tx pgx.Tx, long, short []string, n int) ([]int64, error) {
	if len(long) == 1 && len(short) == 0 {
		return []int64{int64(n)}, nil
	}
	counts := make([]int64, len(long))
	cols := make([]string, len(long))
	conds := make([]string, len(long))
	dest := make([]any, len(long))
	args := make([]any, len(long))
	for i, t := range long {
		args[i] = likeContains(t)
		n := strconv.Itoa(i + 1)
		cols[i] = `count(*) FILTER (WHERE search LIKE $` + n + `)`
		conds[i] = `search LIKE $` + n
		dest[i] = &counts[i]
	}
	err := s.queryRow(ctx, tx, `SELECT `+strings.Join(cols, ", ")+` FROM graph_entities WHERE `+strings.Join(conds, " OR "),
		args, dest...)
	return counts, err
}

// pgNodeScorer scores an entity as SQLite's bm25(graph_fts, nodeWeights)
// scores it, from the same figures: FTS5's BM25 (k1 = 1.2, b = 0.75) over
// the whole row, with a term's frequency the sum of the weights of the
// columns of its occurrences (overlapping ones too, as a phrase of
// trigrams matches at each position), the row's length and the average
// length in trigram tokens, and each term's IDF from the number of
// entities holding it, floored at 1e-6. The arithmetic is done in FTS5's
// order, so that equal figures give equal scores and ties stay ties.
type pgNodeScorer struct {
	terms        []string
	hits         []int64 // entities holding each term
	rows, tokens int64   // entities, and their tokens in all
}

// The weights of nodeWeights, as numbers: name, type, observations.
var nodeColumnWeights = [3]float64{10, 4, 1}

func (sc *pgNodeScorer) score(search string, tokens int64) float64 {
	const k1, b = 1.2, 0.75
	avgdl := float64(sc.tokens) / float64(sc.rows)
	name, typ, obs := splitSearch(search)
	cols := [3]string{name, typ, obs}
	d := float64(tokens)
	score := 0.0
	for i, t := range sc.terms {
		freq := 0.0
		for c, text := range cols {
			for range countOverlapping(text, t) {
				freq += nodeColumnWeights[c]
			}
		}
		// The conversions round as C does, and keep the compiler from
		// fusing a multiply and an add where the CPU can.
		score += float64(fts5IDF(sc.rows, sc.hits[i]) * (float64(freq*(k1+1)) / (freq + float64(k1*(1-b+float64(b*d)/avgdl)))))
	}
	return -1 * score
}

// fts5IDF is FTS5's IDF: log((N - n + 0.5) / (n + 0.5)), at least 1e-6.
func fts5IDF(rows, hits int64) float64 {
	v := math.Log((float64(rows-hits) + 0.5) / (float64(hits) + 0.5))
	if v <= 0 {
		return 1e-6
	}
	return v
}

// countOverlapping counts the positions at which t starts in s.
func countOverlapping(s, t string) int {
	n := 0
	for {
		i := strings.Index(s, t)
		if i < 0 {
			return n
		}
		n++
		_, size := utf8.DecodeRuneInString(s[i:])
		s = s[i+size:]
	}
}
