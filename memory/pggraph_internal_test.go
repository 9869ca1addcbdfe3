package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// rankCorpus is a graph whose entities differ in every figure BM25 counts:
// lengths of each column, occurrences in each, overlapping occurrences,
// letters of several scripts and cases.
func rankCorpus() []Entity {
	words := strings.Fields(`tea teapot steam Team aaaa Ünïcode café CAFÉ Straße ΣΊΣΥΦΟΣ naïve at acme smith john jo 日本語 x 50% snake_case a\b`)
	var es []Entity
	for i := range 60 {
		w := func(k int) string { return words[(i*k+k)%len(words)] }
		var obs []string
		for j := range i % 4 {
			obs = append(obs, strings.Repeat(w(j+2)+" ", 1+(i+j)%3)+w(j+5))
		}
		typ := []rune(w(7))
		es = append(es, Entity{Name: fmt.Sprintf("%s %s %d", w(1), w(3), i), EntityType: string(typ[:min(len(typ), 2+i%5)]), Observations: obs})
	}
	return es
}

// pgNodeScorer reproduces SQLite's bm25() over graph_fts to the last bit,
// from figures counted in Go.
func TestNodeScorerIsFTS5BM25(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t)
	es := rankCorpus()
	if _, err := s.CreateEntities(ctx, es); err != nil {
		t.Fatal(err)
	}
	texts := map[string]searchText{}
	var total int64
	for _, e := range es {
		obs, _ := appendNew([]string{}, e.Observations)
		st := newSearchText(e.Name, e.EntityType, obs)
		texts[e.Name] = st
		total += st.tokens()
	}
	for _, terms := range [][]string{
		{"tea"}, {"aaa"}, {"aaaa"}, {"café"}, {"ünï"}, {"straße"}, {"σίσυφ"}, {"at jo"}, {"jo 1"}, {"日本語"},
		{"café café"}, {"tea", "steam"}, {"team", "aaa"}, {"acme", "café", "日本語"},
	} {
		query := strings.Join(terms, " AND ")
		sc := pgNodeScorer{terms: terms, rows: int64(len(es)), tokens: total}
		for _, term := range terms {
			n := int64(0)
			for _, st := range texts {
				if strings.Contains(st.text, term) {
					n++
				}
			}
			sc.hits = append(sc.hits, n)
		}
		var phrases []string
		for _, term := range terms {
			phrases = append(phrases, `"`+term+`"`)
		}
		checked := 0
		err := s.query(ctx, s.db, `SELECT name, bm25(graph_fts, `+nodeWeights+`) FROM graph_fts WHERE graph_fts MATCH ?`,
			[]any{strings.Join(phrases, " AND ")}, func(rows rowScanner) error {
				var name string
				var want float64
				if err := rows.Scan(&name, &want); err != nil {
					return err
				}
				st := texts[name]
				if got := sc.score(st.text, st.tokens()); got != want {
					t.Errorf("%q: %q scores %v; SQLite's bm25 %v", query, name, got, want)
				}
				checked++
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
		if checked == 0 {
			t.Errorf("%q matched nothing: a query that tests nothing", query)
		}
	}
}

// Every query but the empty one is served by an index: pg_trgm's for a
// term of three characters or more, the one of short substrings for a
// term of one or two, both for a mix.
func TestPostgresNodeSearchUsesIndexes(t *testing.T) {
	ctx := context.Background()
	s := MustOpenPostgres(t, Options{URL: testenv.RequirePostgres(t).Database(t)})
	var es []Entity
	for i := range 3000 {
		es = append(es, Entity{Name: fmt.Sprintf("entity-%05d", i), EntityType: "bench",
			Observations: []string{fmt.Sprintf("topic-%05d", i%300), "alpha bridge cache delta engine forest garden"}})
	}
	if _, err := s.CreateEntities(ctx, es); err != nil {
		t.Fatal(err)
	}
	// As autovacuum does after such an insert: the statistics, and the
	// GIN indexes' pending entries merged (while they are pending, the
	// planner may rather read a table this small whole).
	if _, err := s.pool.Exec(ctx, `VACUUM ANALYZE graph_entities`); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		terms []string
		index []string // any of
	}{
		{[]string{"topic-00042"}, []string{"graph_entities_search"}},
		{[]string{"zq"}, []string{"graph_entities_grams"}},
		{[]string{"q"}, []string{"graph_entities_grams"}},
		{[]string{"topic-00042", "zq"}, []string{"graph_entities_search", "graph_entities_grams"}},
	} {
		long, short, _ := splitTerms(tt.terms)
		where, args := pgNodeFilter(long, short)
		var plan []string
		rows, err := s.pool.Query(ctx, `EXPLAIN SELECT seq, name, search, tokens FROM graph_entities WHERE `+where, args...)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n")
		if strings.Contains(text, "Seq Scan") || !slices.ContainsFunc(tt.index, func(i string) bool { return strings.Contains(text, i) }) {
			t.Errorf("%q is not looked up in %s:\n%s", tt.terms, strings.Join(tt.index, " or "), text)
		}
	}
}

// A write too large for one statement is cut into several, which keep
// the order of the call: an import in chunks of a few rows makes the same
// graph as SQLite's.
func TestPostgresGraphWritesInChunks(t *testing.T) {
	oldBytes, oldRows := pgChunkBytes, pgChunkRows
	pgChunkBytes, pgChunkRows = 300, 3
	t.Cleanup(func() { pgChunkBytes, pgChunkRows = oldBytes, oldRows })

	ctx := context.Background()
	var in strings.Builder
	for i := range 40 {
		fmt.Fprintf(&in, `{"type":"entity","name":"e%02d","entityType":"t","observations":["%s"]}`+"\n", 39-i, strings.Repeat("o", i*7))
		fmt.Fprintf(&in, `{"type":"relation","from":"e%02d","to":"e%02d","relationType":"r"}`+"\n", i, (i*7)%40)
	}
	in.WriteString(`{"type":"entity","name":"e05","entityType":"t","observations":["more"]}` + "\n")
	pg := MustOpenPostgres(t, Options{URL: testenv.RequirePostgres(t).Database(t)})
	lite := MustOpen(t)
	var exports [2]strings.Builder
	for i, s := range []Store{lite, pg} {
		res, err := s.ImportGraph(ctx, strings.NewReader(in.String()))
		if err != nil {
			t.Fatal(err)
		}
		if want := (ImportResult{EntitiesCreated: 40, EntitiesMerged: 1, ObservationsAdded: 41, RelationsCreated: 40}); res != want {
			t.Errorf("import: %+v; want %+v", res, want)
		}
		// Observations added everywhere: an update of every row.
		adds := make([]ObservationAddition, 40)
		for j := range adds {
			adds[j] = ObservationAddition{EntityName: fmt.Sprintf("e%02d", j), Contents: []string{"added"}}
		}
		if _, err := s.AddObservations(ctx, adds); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.ExportGraph(ctx, &exports[i]); err != nil {
			t.Fatal(err)
		}
	}
	if exports[0].String() != exports[1].String() {
		t.Errorf("SQLite exports\n%s\nPostgreSQL exports\n%s", exports[0].String(), exports[1].String())
	}
}
