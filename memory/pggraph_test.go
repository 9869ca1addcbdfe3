package memory_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
	"github.com/mcp-pba-tunnel/pbatunnel/memory"
)

// PostgreSQL finds the same entities as SQLite, in the same order, page
// by page: substrings long and short, words, a mix.
func TestGraphSearchSameOnBothBackends(t *testing.T) {
	stores := make([]memory.Store, len(backends))
	for i, b := range backends {
		stores[i] = b.open(t, memory.Options{})
		mustCreateEntities(t, stores[i], memory.RankCorpus()...)
	}
	queries := []memory.NodeQuery{
		{Query: "tea"}, {Query: "TEAM"}, {Query: "aaa"}, {Query: "café"}, {Query: "ünï"}, {Query: "σίσυφ"},
		{Query: "at jo"}, {Query: "日本語"}, {Query: "café café"}, {Query: "jo"}, {Query: "ß"}, {Query: "日本"},
		{Query: "x"}, {Query: " t"}, {Query: "e 1"}, {Query: "50%"}, {Query: "%"}, {Query: "e_c"}, {Query: "_"}, {Query: `a\b`}, {Query: `\`}, {Query: "0%"}, {Query: "nothing at all"}, {Query: "", Limit: 7},
		{Query: "tea steam", Match: memory.MatchWords}, {Query: "team aaa jo", Match: memory.MatchWords},
		{Query: "acme café 日本語", Match: memory.MatchWords}, {Query: "jo x", Match: memory.MatchWords},
	}
	for _, q := range queries {
		for _, limit := range []int{q.Limit, 3} {
			q.Limit = limit
			var got [][]string
			for _, s := range stores {
				got = append(got, searchNames(t, s, q))
			}
			if d := cmp.Diff(got[0], got[1], cmpEmpty); d != "" {
				t.Errorf("SearchNodes(%q, %q, limit %d) (-%s +%s):\n%s", q.Query, q.Match, limit, backends[0].name, backends[1].name, d)
			}
			if len(got[0]) == 0 && q.Query != "nothing at all" {
				t.Errorf("SearchNodes(%q, %q) found nothing: it tests nothing", q.Query, q.Match)
			}
		}
	}
}

// Two stores on one database, as two servers sharing it: observations
// added to one entity by both at once are all kept, and each store's
// cache sees the other's writes at once.
func TestPostgresGraphTwoStores(t *testing.T) {
	url := testenv.RequirePostgres(t).Database(t)
	rec := &recorder{}
	a := memory.MustOpenPostgres(t, memory.Options{URL: url, Monitor: rec})
	b := memory.MustOpenPostgres(t, memory.Options{URL: url})
	mustCreateEntities(t, a, ent("shared", "test", "first"))

	const writers, each = 4, 15
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers*each)
	for i, s := range []memory.Store{a, b} {
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := range each {
					obs := fmt.Sprintf("store %d writer %d note %d", i, w, n)
					_, err := s.AddObservations(bg, []memory.ObservationAddition{{EntityName: "shared", Contents: []string{obs}}})
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	open := func(s memory.Store) memory.Entity {
		t.Helper()
		g, err := s.OpenNodes(bg, []string{"shared"}, false)
		if err != nil || len(g.Entities) != 1 {
			t.Fatalf("OpenNodes: %+v, %v", g, err)
		}
		return g.Entities[0]
	}
	for _, s := range []memory.Store{a, b} {
		if got := len(open(s).Observations); got != 1+2*writers*each {
			t.Errorf("%d observations; want %d", got, 1+2*writers*each)
		}
	}

	// The cache: a second read is a hit; a write by the other store is
	// seen by the next read all the same.
	_, _, hits0, _ := rec.counts()
	open(a)
	if _, _, hits, _ := rec.counts(); hits != hits0+1 {
		t.Errorf("reading an unchanged entity again: %d cache hits; want 1", hits-hits0)
	}
	if _, err := b.AddObservations(bg, []memory.ObservationAddition{{EntityName: "shared", Contents: []string{"last"}}}); err != nil {
		t.Fatal(err)
	}
	if obs := open(a).Observations; obs[len(obs)-1] != "last" {
		t.Errorf("after the other store's AddObservations, the last observation is %q", obs[len(obs)-1])
	}
	if _, err := b.DeleteObservations(bg, []memory.ObservationDeletion{{EntityName: "shared", Observations: []string{"first"}}}); err != nil {
		t.Fatal(err)
	}
	if obs := open(a).Observations; slices.Contains(obs, "first") {
		t.Errorf("after the other store's DeleteObservations: %q still there", "first")
	}
	if _, err := b.DeleteEntities(bg, []string{"shared"}); err != nil {
		t.Fatal(err)
	}
	if g, err := a.OpenNodes(bg, []string{"shared"}, false); err != nil || len(g.Entities) != 0 {
		t.Errorf("after the other store deleted it: %+v, %v", g, err)
	}
}

// A name no entity can have (NUL, invalid UTF-8) finds nothing and
// deletes nothing, on every backend, rather than failing.
func TestGraphUnstorableNames(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		mustCreateEntities(t, s, ent("a", "t", "o"))
		if _, err := s.CreateRelations(bg, []memory.Relation{rel("a", "a", "r")}); err != nil {
			t.Fatal(err)
		}
		bad := []string{"a\x00", "\xff", "a\xffb"}
		if g, err := s.OpenNodes(bg, bad, false); err != nil || len(g.Entities) != 0 {
			t.Errorf("OpenNodes: %+v, %v", g, err)
		}
		dels := []memory.ObservationDeletion{{EntityName: "\xff", Observations: []string{"o"}}, {EntityName: "a", Observations: []string{"o\x00"}}}
		if ch, err := s.DeleteObservations(bg, dels); err != nil || ch != (memory.GraphChanges{}) {
			t.Errorf("DeleteObservations: %+v, %v", ch, err)
		}
		if ch, err := s.DeleteRelations(bg, []memory.Relation{rel("a\x00", "a", "r"), rel("a", "\xff", "r")}); err != nil || ch != (memory.GraphChanges{}) {
			t.Errorf("DeleteRelations: %+v, %v", ch, err)
		}
		if ch, err := s.DeleteEntities(bg, bad); err != nil || ch != (memory.GraphChanges{}) {
			t.Errorf("DeleteEntities: %+v, %v", ch, err)
		}
		want := memory.Graph{Entities: []memory.Entity{ent("a", "t", "o")}, Relations: []memory.Relation{rel("a", "a", "r")}}
		if d := cmp.Diff(want, mustReadGraph(t, s)); d != "" {
			t.Errorf("graph (-want +got):\n%s", d)
		}
	})
}
