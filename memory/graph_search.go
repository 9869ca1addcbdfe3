package memory

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// Ways SearchNodes matches, the values of NodeQuery.Match.
const (
	// MatchSubstring finds the entities whose name, type or one
	// observation contains the query, ignoring case: the reference
	// server's search_nodes, which finds "Jo" in "John".
	MatchSubstring = "substring"
	// MatchWords finds the entities in which every word of the query
	// occurs (each as a substring, ignoring case) in any of those fields,
	// in any order: "smith john" finds "John Smith".
	MatchWords = "words"
)

// NodeQuery is a search of the graph's entities.
type NodeQuery struct {
	// Query is the text to look for. Empty matches every entity.
	Query string
	// Match is MatchSubstring (the default) or MatchWords.
	Match string
	// Limit bounds the entities of a page; 0 means no bound.
	Limit int
	// Cursor is the NextCursor of the previous page.
	Cursor string
	// NamesOnly leaves the observations out.
	NamesOnly bool
}

const cursorNodes = 'q'

// BM25 weights of graph_fts's columns: a match in the name says most about
// an entity, one in an observation least.
const nodeWeights = `10.0, 4.0, 1.0`

// SearchNodes returns the entities that match q, best first, and every
// relation with at least one end among them.
//
// The set of entities is the reference server's for MatchSubstring; the
// order is by relevance, BM25 over the trigram index with the name
// weighted most, then by creation. A term of three characters or more is
// looked up in the trigram index, and shorter ones are checked on its
// candidates; when every term is short, they are looked up in the index
// of one- and two-character grams (see graph_short.go), and the order is
// creation order. A page holds up to Limit entities and the relations
// that touch them, so a relation between entities of two pages comes on
// both.
func (s *SQLite) SearchNodes(ctx context.Context, q NodeQuery) (GraphPage, error) {
	if err := s.checkOpen(); err != nil {
		return GraphPage{}, err
	}
	return searchNodes(ctx, s, q)
}

// scanShort is the SQLite store as SearchNodes was before graph_short:
// terms of one or two characters checked on every entity instead of
// looked up, which the tests compare the index with.
type scanShort struct{ *SQLite }

func (s scanShort) nodeHits(ctx context.Context, terms []string, after *cursor, limit int) ([]nodeHit, error) {
	return s.nodeHitsShort(ctx, terms, after, limit, false)
}

// nodeSearcher is what searchNodes needs of a backend.
type nodeSearcher interface {
	// nodeHits finds the entities that hold every term (see nodeTerms),
	// scored. It may leave out the hits at or before after, in the order
	// of a search (score, then seq), and those beyond the first limit+1
	// after it, when it can tell them cheaply; limit 0 is no limit.
	nodeHits(ctx context.Context, terms []string, after *cursor, limit int) ([]nodeHit, error)
	nodeReader
}

// searchNodes is SearchNodes on any backend: the query's checks, its
// paging and its order are the same for all.
func searchNodes(ctx context.Context, b nodeSearcher, q NodeQuery) (GraphPage, error) {
	terms, err := nodeTerms(q)
	if err != nil {
		return GraphPage{}, err
	}
	if q.Limit < 0 {
		return GraphPage{}, invalidf("invalid limit %d: must be positive, or 0 for everything", q.Limit)
	}
	fp, sum := newFingerprint()
	fp.str(q.Match)
	fp.str(strings.Join(terms, "\x00"))
	fingerprint := sum()
	var after *cursor
	if q.Cursor != "" {
		c, err := parseCursor(q.Cursor, fingerprint, cursorNodes)
		if err != nil {
			return GraphPage{}, err
		}
		after = &c
	}

	hits, err := b.nodeHits(ctx, terms, after, q.Limit)
	if err != nil {
		return GraphPage{}, fmt.Errorf("searching nodes: %w", err)
	}
	slices.SortFunc(hits, func(a, b nodeHit) int {
		if c := cmp.Compare(a.score, b.score); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	if after != nil {
		score := math.Float64frombits(after.key)
		i, _ := slices.BinarySearchFunc(hits, nodeHit{score: score, seq: after.seq}, func(h, t nodeHit) int {
			if c := cmp.Compare(h.score, t.score); c != 0 {
				return c
			}
			return cmp.Compare(h.seq, t.seq+1) // strictly after the cursor's row
		})
		hits = hits[i:]
	}
	next := ""
	if q.Limit > 0 && len(hits) > q.Limit {
		hits = hits[:q.Limit]
		last := hits[len(hits)-1]
		next = cursor{kind: cursorNodes, fingerprint: fingerprint, key: math.Float64bits(last.score), seq: last.seq}.String()
	}

	names := make([]string, len(hits))
	for i, h := range hits {
		names[i] = h.name
	}
	es, err := b.entitiesByName(ctx, names)
	if err != nil {
		return GraphPage{}, fmt.Errorf("searching nodes: %w", err)
	}
	// Relevance order, not creation order; an entity deleted since the
	// search is left out.
	rank := make(map[string]int, len(hits))
	for i, h := range hits {
		rank[h.name] = i
	}
	slices.SortFunc(es, func(a, b graphEntity) int { return cmp.Compare(rank[a.Name], rank[b.Name]) })
	g, err := b.withRelations(ctx, es, q.NamesOnly)
	if err != nil {
		return GraphPage{}, fmt.Errorf("searching nodes: %w", err)
	}
	return GraphPage{Graph: g, NextCursor: next}, nil
}

// nodeTerms lower-cases the query and splits it as q.Match says. No terms
// means every entity matches.
func nodeTerms(q NodeQuery) ([]string, error) {
	// A NUL would end the FTS5 string the terms are looked up with, which
	// SQLite reports as a syntax error; no name, type or observation can
	// hold one, so it is refused as the writes refuse it.
	switch {
	case len(q.Query) > MaxContentBytes:
		return nil, invalidf("invalid query: %d bytes; at most %d", len(q.Query), MaxContentBytes)
	case !utf8.ValidString(q.Query):
		return nil, invalidf("invalid query: not valid UTF-8")
	case strings.IndexByte(q.Query, 0) >= 0:
		return nil, invalidf("invalid query: contains a NUL byte")
	}
	lq := strings.ToLower(q.Query)
	switch q.Match {
	case "", MatchSubstring:
		if lq == "" {
			return nil, nil
		}
		return []string{lq}, nil
	case MatchWords:
		return strings.Fields(lq), nil
	}
	return nil, invalidf("invalid match %q: want %s or %s", q.Match, MatchSubstring, MatchWords)
}

type nodeHit struct {
	seq   int64
	name  string
	score float64 // BM25: lower is better; 0 when not ranked
}

// nodeHits finds the entities containing every term. The trigram index
// narrows the candidates by the terms it can look up; each candidate is
// then checked against every term with Go's case folding, the same as the
// reference's toLowerCase for all but a handful of characters. When every
// term is short, graph_short answers instead (see shortHits), reading only
// the page that after and limit ask for.
func (s *SQLite) nodeHits(ctx context.Context, terms []string, after *cursor, limit int) ([]nodeHit, error) {
	return s.nodeHitsShort(ctx, terms, after, limit, true)
}

// nodeHitsShort is nodeHits, with useShort false checking short terms on
// every entity as before graph_short (the tests compare the two).
func (s *SQLite) nodeHitsShort(ctx context.Context, terms []string, after *cursor, limit int, useShort bool) ([]nodeHit, error) {
	var indexed, short []string
	for _, t := range terms {
		switch {
		case utf8.RuneCountInString(t) < 3:
			short = append(short, t)
		case !strings.Contains(t, observationSep):
			indexed = append(indexed, `"`+strings.ReplaceAll(t, `"`, `""`)+`"`)
		}
	}
	if useShort && len(short) == len(terms) {
		return s.shortHits(ctx, short, after, limit)
	}
	query := `SELECT rowid, 0.0, name, entity_type, observations FROM graph_fts`
	var args []any
	if len(indexed) > 0 {
		query = `SELECT rowid, bm25(graph_fts, ` + nodeWeights + `), name, entity_type, observations
			FROM graph_fts WHERE graph_fts MATCH ?`
		args = []any{strings.Join(indexed, " AND ")}
	}
	hits := []nodeHit{}
	err := s.query(ctx, s.db, query, args, func(rows rowScanner) error {
		var h nodeHit
		var typ, obs string
		if err := rows.Scan(&h.seq, &h.score, &h.name, &typ, &obs); err != nil {
			return err
		}
		if nodeMatches(terms, h.name, typ, obs) {
			hits = append(hits, h)
		}
		return nil
	})
	return hits, err
}

// nodeMatches reports whether every term is in the name, the type or one
// of the observations (joined by observationSep in obs).
func nodeMatches(terms []string, name, typ, obs string) bool {
	if len(terms) == 0 {
		return true
	}
	fields := append([]string{strings.ToLower(name), strings.ToLower(typ)},
		strings.Split(strings.ToLower(obs), observationSep)...)
	for _, t := range terms {
		found := false
		for _, f := range fields {
			if strings.Contains(f, t) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
