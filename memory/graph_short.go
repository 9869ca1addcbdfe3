package memory

import (
	"context"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"modernc.org/sqlite"
)

// Searches for one or two characters cannot use the trigram index, which
// holds no shorter grams. graph_short (migration 0003) indexes, for each
// entity, every distinct string of one or two characters (Unicode code
// points) found within one of its fields: the name, the type, or one
// observation; a pair never spans two fields. The grams are stored as
// written, not lower-cased; a search looks up every spelling whose lower
// case is the term (see caseVariants). So the index answers exactly which
// entities contain a short term, as nodeMatches would say, with the case
// folding of the Go that runs the search, whichever Go wrote the index.
//
// The index is an FTS5 table without content (the grams live only in its
// postings), detail=none (a posting is an entity, no positions): a few
// bytes per gram and entity. Each gram is written as one token, the hex
// of its UTF-8 bytes, which the ascii tokenizer keeps whole: "ab" is
// 6162, "é" c3a9; UTF-8 is self-delimiting, so one token means one gram.
// Triggers keep it in step with graph_entities, calling graphShortGrams
// through the SQL function graph_short_grams.

// shortGramsFunc is the SQL function the migration and triggers call.
const shortGramsFunc = "graph_short_grams"

// maxShortTerms bounds the terms one lookup in graph_short asks for; a
// search of more distinct short words is narrowed by the first ones and
// each candidate checked against all of them.
const maxShortTerms = 16

func init() {
	// The driver gives the function to every connection it opens after
	// this; the store opens its connections later, at OpenSQLite.
	sqlite.MustRegisterDeterministicScalarFunction(shortGramsFunc, 3, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		var fields [3]string
		for i, a := range args {
			switch v := a.(type) {
			case string:
				fields[i] = v
			case []byte:
				fields[i] = string(v)
			case nil:
			default:
				return nil, fmt.Errorf("%s: argument %d is %T, want text", shortGramsFunc, i+1, a)
			}
		}
		obs, err := decodeObservations(fields[2])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", shortGramsFunc, err)
		}
		return graphShortGrams(append([]string{fields[0], fields[1]}, obs...)), nil
	})
}

// graphShortGrams returns the tokens of graph_short for an entity's
// fields: each distinct gram of one or two characters within one field,
// separated by spaces, in the order first seen.
func graphShortGrams(fields []string) string {
	seen := make(map[[2]rune]struct{})
	var b []byte
	add := func(g [2]rune) {
		if _, ok := seen[g]; ok {
			return
		}
		seen[g] = struct{}{}
		if len(b) > 0 {
			b = append(b, ' ')
		}
		b = appendGramToken(b, g)
	}
	for _, f := range fields {
		prev := rune(-1)
		for _, r := range f {
			add([2]rune{r, -1})
			if prev >= 0 {
				add([2]rune{prev, r})
			}
			prev = r
		}
	}
	return string(b)
}

// appendGramToken appends the token of g: the hex of its UTF-8 bytes. A
// second rune of -1 means a gram of one character.
func appendGramToken(b []byte, g [2]rune) []byte {
	var u [2 * utf8.UTFMax]byte
	n := utf8.EncodeRune(u[:], g[0])
	if g[1] >= 0 {
		n += utf8.EncodeRune(u[n:], g[1])
	}
	return hex.AppendEncode(b, u[:n])
}

// lowerInverse maps each rune that unicode.ToLower gives for some other
// rune to those others: 'k' to 'K' and U+212A KELVIN SIGN, 'i' to 'I'
// and U+0130. Only runes of unicode.CaseRanges change under ToLower.
var lowerInverse = sync.OnceValue(func() map[rune][]rune {
	inv := make(map[rune][]rune)
	for _, cr := range unicode.CaseRanges {
		for r := rune(cr.Lo); r <= rune(cr.Hi); r++ {
			if l := unicode.ToLower(r); l != r {
				inv[l] = append(inv[l], r)
			}
		}
	}
	return inv
})

// caseVariants returns every rune r with unicode.ToLower(r) == c: the
// characters of a field that match c once the field is lower-cased, as
// strings.ToLower does it, rune by rune.
func caseVariants(c rune) []rune {
	var vs []rune
	if unicode.ToLower(c) == c {
		vs = append(vs, c)
	}
	return append(vs, lowerInverse()[c]...)
}

// shortMatch returns the FTS5 query of graph_short for terms, each one or
// two characters and lower-cased: for each term, any of its spellings;
// every term. ok is false when some term has no spelling at all, so that
// nothing can match.
func shortMatch(terms []string) (match string, ok bool) {
	var b strings.Builder
	for i, t := range terms {
		rs := []rune(t)
		first := caseVariants(rs[0])
		second := []rune{-1}
		if len(rs) == 2 {
			second = caseVariants(rs[1])
		}
		if len(first) == 0 || len(second) == 0 {
			return "", false
		}
		if i > 0 {
			b.WriteString(" AND ")
		}
		b.WriteByte('(')
		var tok []byte
		for j, r1 := range first {
			for k, r2 := range second {
				if j+k > 0 {
					b.WriteString(" OR ")
				}
				tok = appendGramToken(append(tok[:0], '"'), [2]rune{r1, r2})
				b.Write(append(tok, '"'))
			}
		}
		b.WriteByte(')')
	}
	return b.String(), true
}

// shortHits finds the entities containing every term, all of one or two
// characters, through graph_short, in creation order; no terms means every
// entity. When the index answers exactly (up to maxShortTerms terms), it
// reads only the page: the rows after the cursor's seq (for a cursor of
// this ordering, whose score is 0) and one more than limit (0: all).
// Otherwise it narrows by the first terms and checks each candidate.
func (s *SQLite) shortHits(ctx context.Context, terms []string, after *cursor, limit int) ([]nodeHit, error) {
	terms = distinct(terms)
	exact := len(terms) <= maxShortTerms
	from, n := int64(math.MinInt64), int64(-1)
	if exact {
		if after != nil && after.key == 0 {
			from = after.seq
		}
		if limit > 0 {
			n = int64(limit) + 1
		}
	}
	hits := []nodeHit{}
	if len(terms) == 0 {
		err := s.query(ctx, s.db, `SELECT seq, name FROM graph_entities WHERE seq > ? ORDER BY seq LIMIT ?`,
			[]any{from, n}, func(rows rowScanner) error {
				var h nodeHit
				err := rows.Scan(&h.seq, &h.name)
				hits = append(hits, h)
				return err
			})
		return hits, err
	}
	match, ok := shortMatch(terms[:min(len(terms), maxShortTerms)])
	if !ok {
		return hits, nil
	}
	if exact {
		err := s.query(ctx, s.db, `SELECT e.seq, e.name FROM graph_short
			JOIN graph_entities e ON e.seq = graph_short.rowid
			WHERE graph_short MATCH ? AND graph_short.rowid > ? ORDER BY graph_short.rowid LIMIT ?`,
			[]any{match, from, n}, func(rows rowScanner) error {
				var h nodeHit
				err := rows.Scan(&h.seq, &h.name)
				hits = append(hits, h)
				return err
			})
		return hits, err
	}
	err := s.query(ctx, s.db, `SELECT f.rowid, f.name, f.entity_type, f.observations FROM graph_short
		JOIN graph_fts f ON f.rowid = graph_short.rowid
		WHERE graph_short MATCH ? ORDER BY graph_short.rowid`, []any{match}, func(rows rowScanner) error {
		var h nodeHit
		var typ, obs string
		if err := rows.Scan(&h.seq, &h.name, &typ, &obs); err != nil {
			return err
		}
		if nodeMatches(terms, h.name, typ, obs) {
			hits = append(hits, h)
		}
		return nil
	})
	return hits, err
}

// distinct returns ss without repeats, in first-seen order.
func distinct(ss []string) []string {
	seen := make(map[string]bool, len(ss))
	out := ss[:0:0]
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
