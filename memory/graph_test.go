package memory_test

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-pba-tunnel/pbatunnel/memory"
)

func mustCreateEntities(tb testing.TB, s memory.Store, es ...memory.Entity) []memory.Entity {
	tb.Helper()
	got, err := s.CreateEntities(bg, es)
	if err != nil {
		tb.Fatal(err)
	}
	return got
}

func mustReadGraph(tb testing.TB, s memory.Store) memory.Graph {
	tb.Helper()
	p, err := s.ReadGraph(bg, memory.GraphQuery{})
	if err != nil {
		tb.Fatal(err)
	}
	if p.NextCursor != "" {
		tb.Fatalf("ReadGraph without a limit gave a cursor")
	}
	return p.Graph
}

func cacheHits(tb testing.TB, s memory.Store) uint64 {
	tb.Helper()
	st, err := s.Stats(bg)
	if err != nil {
		tb.Fatal(err)
	}
	return st.Cache.Hits
}

func ent(name, typ string, obs ...string) memory.Entity {
	if obs == nil {
		obs = []string{}
	}
	return memory.Entity{Name: name, EntityType: typ, Observations: obs}
}

func rel(from, to, typ string) memory.Relation {
	return memory.Relation{From: from, To: to, RelationType: typ}
}

func TestGraphCreateSkipsDuplicates(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		got := mustCreateEntities(t, s, ent("Ada", "person", "mathematician", "mathematician"), ent("Ada", "robot"), ent("Engine", "machine"))
		want := []memory.Entity{ent("Ada", "person", "mathematician"), ent("Engine", "machine")}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("created (-want +got):\n%s", d)
		}
		if got := mustCreateEntities(t, s, ent("Ada", "other", "x")); len(got) != 0 {
			t.Errorf("creating an existing entity again created %v", got)
		}
		rs, err := s.CreateRelations(bg, []memory.Relation{rel("Ada", "Engine", "programmed"), rel("Ada", "Engine", "programmed"), rel("Ada", "Nobody", "knows")})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]memory.Relation{rel("Ada", "Engine", "programmed"), rel("Ada", "Nobody", "knows")}, rs); d != "" {
			t.Errorf("relations created (-want +got):\n%s", d)
		}
		g := mustReadGraph(t, s)
		if d := cmp.Diff(memory.Graph{Entities: want, Relations: rs}, g); d != "" {
			t.Errorf("graph (-want +got):\n%s", d)
		}
		st, err := s.Stats(bg)
		if err != nil {
			t.Fatal(err)
		}
		if st.GraphEntities != 2 || st.GraphRelations != 2 {
			t.Errorf("stats count %d entities and %d relations; want 2 and 2", st.GraphEntities, st.GraphRelations)
		}
		if n, _ := s.EntryCount(bg); n != 2 {
			t.Errorf("EntryCount = %d; want the 2 entities", n)
		}
		if n, _ := s.RelationshipCount(bg); n != 2 {
			t.Errorf("RelationshipCount = %d; want the 2 relations", n)
		}
	})
}

func TestGraphObservations(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		mustCreateEntities(t, s, ent("Ada", "person", "a"), ent("Bob", "person"))
		res, err := s.AddObservations(bg, []memory.ObservationAddition{
			{EntityName: "Ada", Contents: []string{"a", "b", "b", "c"}},
			{EntityName: "Ada", Contents: []string{"c", "d"}}, // sees the first item
			{EntityName: "Bob", Contents: []string{}},
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []memory.ObservationResult{
			{EntityName: "Ada", AddedObservations: []string{"b", "c"}},
			{EntityName: "Ada", AddedObservations: []string{"d"}},
			{EntityName: "Bob", AddedObservations: []string{}},
		}
		if d := cmp.Diff(want, res); d != "" {
			t.Errorf("results (-want +got):\n%s", d)
		}

		// A missing entity fails the whole call: Bob gets nothing.
		_, err = s.AddObservations(bg, []memory.ObservationAddition{
			{EntityName: "Bob", Contents: []string{"lost"}},
			{EntityName: "Carol", Contents: []string{"x"}},
		})
		checkErr(t, err, memory.ErrNotFound, "Entity with name Carol not found")

		ch, err := s.DeleteObservations(bg, []memory.ObservationDeletion{
			{EntityName: "Ada", Observations: []string{"b", "zzz"}},
			{EntityName: "Nobody", Observations: []string{"a"}},
		})
		if err != nil || ch.Observations != 1 {
			t.Errorf("DeleteObservations = %+v, %v; want 1 observation removed", ch, err)
		}
		g := mustReadGraph(t, s)
		if d := cmp.Diff([]memory.Entity{ent("Ada", "person", "a", "c", "d"), ent("Bob", "person")}, g.Entities); d != "" {
			t.Errorf("entities (-want +got):\n%s", d)
		}
	})
}

func TestGraphDelete(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		mustCreateEntities(t, s, ent("A", "t"), ent("B", "t"), ent("C", "t"))
		if _, err := s.CreateRelations(bg, []memory.Relation{
			rel("A", "B", "r"), rel("B", "C", "r"), rel("C", "A", "r"), rel("Ghost", "C", "r"), rel("C", "Ghost", "s"),
		}); err != nil {
			t.Fatal(err)
		}
		// Deleting A removes its relations; deleting Ghost, which never
		// existed, removes the relations naming it, as the reference does.
		ch, err := s.DeleteEntities(bg, []string{"A", "Ghost", "Nobody"})
		if err != nil {
			t.Fatal(err)
		}
		if ch.Entities != 1 || ch.Relations != 4 {
			t.Errorf("DeleteEntities removed %+v; want 1 entity and 4 relations", ch)
		}
		ch, err = s.DeleteRelations(bg, []memory.Relation{rel("B", "C", "r"), rel("B", "C", "other")})
		if err != nil || ch.Relations != 1 {
			t.Errorf("DeleteRelations = %+v, %v; want 1", ch, err)
		}
		g := mustReadGraph(t, s)
		if d := cmp.Diff(memory.Graph{Entities: []memory.Entity{ent("B", "t"), ent("C", "t")}, Relations: []memory.Relation{}}, g); d != "" {
			t.Errorf("graph (-want +got):\n%s", d)
		}
		if n, _ := s.RelationshipCount(bg); n != 0 {
			t.Errorf("RelationshipCount = %d after deleting every relation", n)
		}
	})
}

func TestGraphValidation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		tests := []struct {
			name string
			call func() error
			msg  string
		}{
			{"empty name", func() error { _, err := s.CreateEntities(bg, []memory.Entity{{EntityType: "x"}}); return err }, "entities[0].name: required"},
			{"name with a newline", func() error { _, err := s.CreateEntities(bg, []memory.Entity{{Name: "a\nb"}}); return err }, "control character"},
			{"separator in an observation", func() error {
				_, err := s.CreateEntities(bg, []memory.Entity{ent("a", "t", "x\x1fy")})
				return err
			}, "entities[0].observations[0]"},
			{"relation without a type", func() error { _, err := s.CreateRelations(bg, []memory.Relation{rel("a", "b", "")}); return err }, "relationType: required"},
			{"observation for no name", func() error {
				_, err := s.AddObservations(bg, []memory.ObservationAddition{{Contents: []string{"x"}}})
				return err
			}, "observations[0].entityName: required"},
			{"negative limit", func() error { _, err := s.ReadGraph(bg, memory.GraphQuery{Limit: -1}); return err }, "limit -1"},
			{"NUL in a query", func() error { _, err := s.SearchNodes(bg, memory.NodeQuery{Query: "ab\x00cdef"}); return err }, "invalid query: contains a NUL byte"},
			{"NUL in a query of words", func() error {
				_, err := s.SearchNodes(bg, memory.NodeQuery{Query: "ab\x00cdef", Match: memory.MatchWords})
				return err
			}, "invalid query: contains a NUL byte"},
			{"unknown match", func() error { _, err := s.SearchNodes(bg, memory.NodeQuery{Query: "a", Match: "regex"}); return err }, `match "regex"`},
			{"foreign cursor", func() error { _, err := s.ReadGraph(bg, memory.GraphQuery{Cursor: "nonsense"}); return err }, "invalid cursor"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				checkErr(t, tt.call(), memory.ErrInvalid, tt.msg)
			})
		}
		if g := mustReadGraph(t, s); len(g.Entities) != 0 || len(g.Relations) != 0 {
			t.Errorf("invalid calls left %+v", g)
		}
	})
}

// searchNames returns the names of every entity a search finds, paging
// with limit (0: one page).
func searchNames(tb testing.TB, s memory.Store, q memory.NodeQuery) []string {
	tb.Helper()
	var names []string
	for range 100 {
		p, err := s.SearchNodes(bg, q)
		if err != nil {
			tb.Fatalf("SearchNodes(%+v): %v", q, err)
		}
		for _, e := range p.Entities {
			names = append(names, e.Name)
		}
		if p.NextCursor == "" {
			return names
		}
		q.Cursor = p.NextCursor
	}
	tb.Fatal("SearchNodes kept giving cursors")
	return nil
}

func TestGraphSearch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		mustCreateEntities(t, s,
			ent("John Smith", "person", "works at Acme", "likes tea"),
			ent("Acme", "company", "makes anvils"),
			ent("Teapot", "object"),
			ent("Jo", "person", "short name"),
			ent("Café Ünïcode", "place", "serves TEA"),
		)
		if _, err := s.CreateRelations(bg, []memory.Relation{rel("John Smith", "Acme", "works_at"), rel("Jo", "Teapot", "owns")}); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			q    memory.NodeQuery
			want []string // in order
		}{
			// A name match ranks above an observation match.
			{memory.NodeQuery{Query: "acme"}, []string{"Acme", "John Smith"}},
			// The shorter observation ranks higher, as BM25 has it.
			{memory.NodeQuery{Query: "TEA"}, []string{"Teapot", "Café Ünïcode", "John Smith"}},
			{memory.NodeQuery{Query: "jo"}, []string{"John Smith", "Jo"}}, // short: no index, creation order
			{memory.NodeQuery{Query: "smith john"}, nil},                  // not a substring
			{memory.NodeQuery{Query: "smith john", Match: memory.MatchWords}, []string{"John Smith"}},
			{memory.NodeQuery{Query: "person tea", Match: memory.MatchWords}, []string{"John Smith"}},
			{memory.NodeQuery{Query: "ünï"}, []string{"Café Ünïcode"}},
			{memory.NodeQuery{Query: "CAFÉ"}, []string{"Café Ünïcode"}},
			{memory.NodeQuery{Query: "at acme"}, []string{"John Smith"}}, // across words, within one observation
			{memory.NodeQuery{Query: "tea\x1fworks"}, nil},               // never across observations
			{memory.NodeQuery{Query: `"quoted" AND`}, nil},               // no FTS syntax
			{memory.NodeQuery{}, []string{"John Smith", "Acme", "Teapot", "Jo", "Café Ünïcode"}},
		}
		for _, tt := range tests {
			got := searchNames(t, s, tt.q)
			if d := cmp.Diff(tt.want, got, cmpEmpty); d != "" {
				t.Errorf("SearchNodes(%q, %q) (-want +got):\n%s", tt.q.Query, tt.q.Match, d)
			}
			// Paging one at a time gives the same list.
			tt.q.Limit = 1
			if d := cmp.Diff(tt.want, searchNames(t, s, tt.q), cmpEmpty); d != "" {
				t.Errorf("SearchNodes(%q, %q) one per page (-want +got):\n%s", tt.q.Query, tt.q.Match, d)
			}
		}

		p, err := s.SearchNodes(bg, memory.NodeQuery{Query: "acme", NamesOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		want := memory.Graph{
			Entities:  []memory.Entity{{Name: "Acme", EntityType: "company"}, {Name: "John Smith", EntityType: "person"}},
			Relations: []memory.Relation{rel("John Smith", "Acme", "works_at")},
		}
		if d := cmp.Diff(want, p.Graph); d != "" {
			t.Errorf("names-only search (-want +got):\n%s", d)
		}

		p, err = s.SearchNodes(bg, memory.NodeQuery{Query: "acme", Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.SearchNodes(bg, memory.NodeQuery{Query: "tea", Limit: 1, Cursor: p.NextCursor})
		checkErr(t, err, memory.ErrInvalid, "other filters")
	})
}

func TestGraphOpenNodesCache(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.db")
	s := memory.MustOpenOptions(t, memory.Options{Path: path})
	other := memory.MustOpenOptions(t, memory.Options{Path: path})
	mustCreateEntities(t, s, ent("A", "t", "one"), ent("B", "t"), ent("C", "t"))
	if _, err := s.CreateRelations(bg, []memory.Relation{rel("A", "B", "r"), rel("C", "Z", "r")}); err != nil {
		t.Fatal(err)
	}
	open := func(st memory.Store, names ...string) memory.Graph {
		t.Helper()
		g, err := st.OpenNodes(bg, names, false)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	want := memory.Graph{Entities: []memory.Entity{ent("A", "t", "one"), ent("B", "t")}, Relations: []memory.Relation{rel("A", "B", "r")}}
	if d := cmp.Diff(want, open(s, "B", "A", "missing", "A")); d != "" {
		t.Errorf("OpenNodes (-want +got):\n%s", d)
	}
	before := cacheHits(t, s)
	open(s, "A", "B")
	if hits := cacheHits(t, s) - before; hits != 2 {
		t.Errorf("second OpenNodes: %d cache hits; want 2", hits)
	}
	// A write by this store, then one by another store on the file: each is
	// seen at once.
	if _, err := s.AddObservations(bg, []memory.ObservationAddition{{EntityName: "A", Contents: []string{"two"}}}); err != nil {
		t.Fatal(err)
	}
	if got := open(s, "A").Entities[0].Observations; !slices.Equal(got, []string{"one", "two"}) {
		t.Errorf("after AddObservations: %q", got)
	}
	if _, err := other.AddObservations(bg, []memory.ObservationAddition{{EntityName: "A", Contents: []string{"three"}}}); err != nil {
		t.Fatal(err)
	}
	if got := open(s, "A").Entities[0].Observations; !slices.Equal(got, []string{"one", "two", "three"}) {
		t.Errorf("after another store's AddObservations: %q", got)
	}
	if _, err := other.DeleteEntities(bg, []string{"B"}); err != nil {
		t.Fatal(err)
	}
	if g := open(s, "B"); len(g.Entities) != 0 {
		t.Errorf("B still opens after another store deleted it: %+v", g)
	}
}

func TestGraphReadPages(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		var es []memory.Entity
		var rs []memory.Relation
		for i := range 23 {
			es = append(es, ent(strings.Repeat("n", i+1), "t", "o"))
		}
		for i := range 7 {
			rs = append(rs, rel(es[i].Name, es[i+1].Name, "next"))
		}
		mustCreateEntities(t, s, es...)
		if _, err := s.CreateRelations(bg, rs); err != nil {
			t.Fatal(err)
		}
		var got memory.Graph
		q := memory.GraphQuery{Limit: 5, NamesOnly: true}
		pages := 0
		for {
			p, err := s.ReadGraph(bg, q)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if len(p.Entities) > 5 || len(p.Relations) > 5 {
				t.Fatalf("page of %d entities and %d relations; limit 5", len(p.Entities), len(p.Relations))
			}
			got.Entities = append(got.Entities, p.Entities...)
			got.Relations = append(got.Relations, p.Relations...)
			if p.NextCursor == "" {
				break
			}
			q.Cursor = p.NextCursor
		}
		if pages != 5 {
			t.Errorf("%d pages; want 5", pages)
		}
		for i := range es {
			es[i].Observations = nil // names only
		}
		if d := cmp.Diff(memory.Graph{Entities: es, Relations: rs}, got); d != "" {
			t.Errorf("paged graph (-want +got):\n%s", d)
		}
	})
}

const referenceFile = `{"type":"entity","name":"Ada","entityType":"person","observations":["wrote <the> first \"program\"","née Byron"]}
{"type":"entity","name":"Engine","entityType":"machine","observations":[]}
{"type":"relation","from":"Ada","to":"Engine","relationType":"programmed"}
{"type":"relation","from":"Engine","to":"Ghost","relationType":"haunted_by"}
`

func TestGraphImportExport(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		res, err := s.ImportGraph(bg, strings.NewReader(referenceFile+"\n\n"+`{"type":"note","text":"ignored"}`))
		if err != nil {
			t.Fatal(err)
		}
		if want := (memory.ImportResult{EntitiesCreated: 2, ObservationsAdded: 2, RelationsCreated: 2, Skipped: 1}); res != want {
			t.Errorf("import: %+v; want %+v", res, want)
		}
		var out bytes.Buffer
		ne, nr, err := s.ExportGraph(bg, &out)
		if err != nil || ne != 2 || nr != 2 {
			t.Fatalf("export: %d entities, %d relations, %v", ne, nr, err)
		}
		if d := cmp.Diff(referenceFile, out.String()); d != "" {
			t.Errorf("export is not the reference's bytes (-want +got):\n%s", d)
		}

		// Again, and as one JSON object: nothing new, then a merge.
		res, err = s.ImportGraph(bg, strings.NewReader(`{"entities":[{"name":"Ada","entityType":"robot","observations":["née Byron","countess"]}],"relations":[{"from":"Ada","to":"Engine","relationType":"programmed"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		if want := (memory.ImportResult{EntitiesMerged: 1, ObservationsAdded: 1, Unchanged: 1}); res != want {
			t.Errorf("second import: %+v; want %+v", res, want)
		}
		g, _ := s.OpenNodes(bg, []string{"Ada"}, false)
		if want := []string{`wrote <the> first "program"`, "née Byron", "countess"}; !slices.Equal(g.Entities[0].Observations, want) || g.Entities[0].EntityType != "person" {
			t.Errorf("merged Ada: %+v", g.Entities[0])
		}

		// Round trip into a new store: the same graph.
		out.Reset()
		if _, _, err := s.ExportGraph(bg, &out); err != nil {
			t.Fatal(err)
		}
		s2 := impl.open(t, memory.Options{})
		if _, err := s2.ImportGraph(bg, bytes.NewReader(out.Bytes())); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(mustReadGraph(t, s), mustReadGraph(t, s2)); d != "" {
			t.Errorf("round trip (-want +got):\n%s", d)
		}
	})
}

func TestGraphImportErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		tests := []struct{ name, in, msg string }{
			{"not JSON", `{"type":"entity","name":"A","entityType":"t","observations":[]}` + "\nnot json", "line 6"},
			{"unknown field", `{"type":"entity","name":"A","kind":"t","observations":[]}`, `line 5: entity: json: unknown field "kind"`},
			{"array", "\n\n[1,2]", "line 7: want a JSON object"},
			{"no type", `{"name":"A"}`, `neither a line with "type"`},
			{"empty name", `{"type":"entity","name":"","entityType":"t","observations":[]}`, "name: required"},
			{"relation without type", `{"type":"relation","from":"a","to":"b","relationType":""}`, "relationType: required"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := impl.open(t, memory.Options{})
				_, err := s.ImportGraph(bg, strings.NewReader(referenceFile+tt.in))
				checkErr(t, err, memory.ErrInvalid, tt.msg)
				if g := mustReadGraph(t, s); len(g.Entities)+len(g.Relations) != 0 {
					t.Errorf("a failed import left %d entities and %d relations", len(g.Entities), len(g.Relations))
				}
			})
		}
	})
}
