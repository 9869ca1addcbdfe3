package memory_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-pba-tunnel/pbatunnel/memory"
)

// shortRunes are the characters the graph of TestGraphShortIndex is
// written with: ASCII letters of both cases, digits, punctuation and the
// space, FTS5's own syntax, and characters whose lower case is unusual:
// U+212A KELVIN SIGN and U+0130 (lower case k and i), dotless ı (its own
// lower case), U+2126 OHM SIGN and U+212B ANGSTROM SIGN (ω and å), the
// three forms of final and medial sigma, ẞ (ß), the title-case digraph ǅ,
// Cherokee Ꭰ (whose lower case is U+AB70), a combining accent, CJK and
// an emoji outside the Basic Multilingual Plane.
var shortRunes = []rune("aAbBeEiIkKsSzZ09 -.'\"*():" + "\u212a\u0130\u0131Iı" + "ΩωΩÅåÅ" + "Σσς" + "ßẞſ" + "ǄǅǆᎠꭰ" + "\u0301é" + "日本" + "🙂")

func randomText(r *rand.Rand, minLen, maxLen int) string {
	rs := make([]rune, minLen+r.IntN(maxLen-minLen+1))
	for i := range rs {
		rs[i] = shortRunes[r.IntN(len(shortRunes))]
	}
	return string(rs)
}

// graphShortWrites applies one round of random writes of every kind that
// changes an entity: create, add and delete observations, import (new
// entities and merges), delete entities.
func graphShortWrites(t *testing.T, s memory.Store, r *rand.Rand, round int) {
	t.Helper()
	names := func() []string {
		var ns []string
		for _, e := range mustReadGraph(t, s).Entities {
			ns = append(ns, e.Name)
		}
		return ns
	}
	var es []memory.Entity
	for range 8 {
		obs := make([]string, r.IntN(4))
		for i := range obs {
			obs[i] = randomText(r, 0, 10)
		}
		es = append(es, ent(randomText(r, 1, 6), randomText(r, 0, 4), obs...))
	}
	mustCreateEntities(t, s, es...)
	ns := names()
	if len(ns) == 0 {
		return
	}
	pick := func() string { return ns[r.IntN(len(ns))] }
	var adds []memory.ObservationAddition
	for range 3 {
		adds = append(adds, memory.ObservationAddition{EntityName: pick(), Contents: []string{randomText(r, 1, 12), randomText(r, 0, 3)}})
	}
	if _, err := s.AddObservations(bg, adds); err != nil {
		t.Fatal(err)
	}
	g, err := s.OpenNodes(bg, []string{pick(), pick()}, false)
	if err != nil {
		t.Fatal(err)
	}
	var dels []memory.ObservationDeletion
	for _, e := range g.Entities {
		if len(e.Observations) > 0 {
			dels = append(dels, memory.ObservationDeletion{EntityName: e.Name, Observations: e.Observations[:1]})
		}
	}
	if _, err := s.DeleteObservations(bg, dels); err != nil {
		t.Fatal(err)
	}
	imp := fmt.Sprintf(`{"type":"entity","name":%q,"entityType":"imported","observations":[%q]}`+"\n"+
		`{"type":"entity","name":%q,"entityType":"ignored","observations":[%q,%q]}`,
		fmt.Sprint("imp", round, randomText(r, 0, 2)), randomText(r, 1, 8), pick(), randomText(r, 1, 8), randomText(r, 0, 4))
	if _, err := s.ImportGraph(bg, strings.NewReader(imp)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteEntities(bg, []string{pick(), pick()}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRelations(bg, []memory.Relation{rel(pick(), pick(), "r"), rel(pick(), "elsewhere", "s")}); err != nil {
		t.Fatal(err)
	}
}

// graphShortQueries returns the searches to compare: every character of
// shortRunes and its upper, title and lower case; pairs of them; pairs
// taken from the graph in other cases; short words together, up to
// more than one lookup in the index holds; the empty query.
func graphShortQueries(t *testing.T, s memory.Store, r *rand.Rand) []memory.NodeQuery {
	t.Helper()
	seen := map[string]bool{}
	var qs []memory.NodeQuery
	add := func(q memory.NodeQuery) {
		if k := q.Match + "\x00" + q.Query; !seen[k] {
			seen[k] = true
			qs = append(qs, q)
		}
	}
	for _, c := range shortRunes {
		for _, v := range []rune{c, unicode.ToUpper(c), unicode.ToTitle(c), unicode.ToLower(c)} {
			add(memory.NodeQuery{Query: string(v)})
		}
	}
	for range 80 {
		add(memory.NodeQuery{Query: randomText(r, 2, 2)})
	}
	var fields []string
	for _, e := range mustReadGraph(t, s).Entities {
		fields = append(fields, e.Name, e.EntityType)
		fields = append(fields, e.Observations...)
	}
	for range 50 {
		f := []rune(fields[r.IntN(len(fields))])
		if len(f) < 2 {
			continue
		}
		i := r.IntN(len(f) - 1)
		pair := string(f[i : i+2])
		for _, v := range []string{pair, strings.ToUpper(pair), strings.ToLower(pair), strings.ToTitle(pair)} {
			add(memory.NodeQuery{Query: v})
		}
	}
	for range 40 {
		words := make([]string, 1+r.IntN(3))
		for i := range words {
			words[i] = randomText(r, 1, 2)
		}
		add(memory.NodeQuery{Query: strings.Join(words, " "), Match: memory.MatchWords})
	}
	// More distinct short words than one lookup takes: the characters of
	// the pangram, which its entity holds all of, then with a pair it
	// does not hold, last, so that the index cannot rule it out.
	words := strings.Join(strings.Split(strings.ReplaceAll(pangram, " ", ""), ""), " ")
	add(memory.NodeQuery{Query: words, Match: memory.MatchWords})
	add(memory.NodeQuery{Query: words + " qz", Match: memory.MatchWords})
	add(memory.NodeQuery{Query: strings.Join(strings.Split("abeiksz09", ""), " ") + " a. .a ab ba ke", Match: memory.MatchWords})
	add(memory.NodeQuery{Query: "a\x1f"})
	add(memory.NodeQuery{Query: "  ", Match: memory.MatchWords}) // no words: every entity
	add(memory.NodeQuery{})
	return qs
}

// pangram has more distinct characters than one lookup in the index
// takes as terms.
const pangram = "The quick brown fox jumps over the lazy dog, 0123456789 ÉÅ日本🙂"

// nodeOracle is the rule of a search, written out: the entities, in
// creation order, in which each term of the lower-cased query (the whole
// query, or each of its words) is a substring of the lower-cased name,
// type or one observation.
func nodeOracle(g memory.Graph, q memory.NodeQuery) []string {
	lq := strings.ToLower(q.Query)
	terms := strings.Fields(lq)
	if q.Match != memory.MatchWords {
		terms = nil
		if lq != "" {
			terms = []string{lq}
		}
	}
	var names []string
	for _, e := range g.Entities {
		fields := append([]string{e.Name, e.EntityType}, e.Observations...)
		all := true
		for _, t := range terms {
			all = all && slices.ContainsFunc(fields, func(f string) bool { return strings.Contains(strings.ToLower(f), t) })
		}
		if all {
			names = append(names, e.Name)
		}
	}
	return names
}

// TestGraphShortIndex checks that searches of one- and two-character
// terms, answered by the index, give what checking every entity gives
// (the same pages, cursors included) and what the rule says, after each
// round of random writes.
func TestGraphShortIndex(t *testing.T) {
	s := memory.MustOpen(t)
	r := rand.New(rand.NewPCG(3, 14))
	mustCreateEntities(t, s, ent("Pangram", "sentence", pangram))
	words := strings.Join(strings.Split(strings.ReplaceAll(pangram, " ", ""), ""), " ")
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{words, []string{"Pangram"}},
		{words + " qz", nil},
	} {
		got := searchNames(t, s, memory.NodeQuery{Query: tt.query, Match: memory.MatchWords})
		if d := cmp.Diff(tt.want, got, cmpEmpty); d != "" {
			t.Errorf("SearchNodes(%q words) (-want +got):\n%s", tt.query, d)
		}
	}
	compared, found, paged := 0, 0, 0
	for round := range 4 {
		graphShortWrites(t, s, r, round)
		g := mustReadGraph(t, s)
		for i, q := range graphShortQueries(t, s, r) {
			want, err := s.SearchNodesScan(bg, q)
			if err != nil {
				t.Fatalf("scan %+q: %v", q.Query, err)
			}
			got, err := s.SearchNodes(bg, q)
			if err != nil {
				t.Fatalf("SearchNodes(%+q): %v", q.Query, err)
			}
			if d := cmp.Diff(want, got, cmpEmpty); d != "" {
				t.Fatalf("round %d: SearchNodes(%+q, %q) differs from the scan (-scan +index):\n%s", round, q.Query, q.Match, d)
			}
			var names []string
			for _, e := range got.Entities {
				names = append(names, e.Name)
			}
			if d := cmp.Diff(nodeOracle(g, q), names, cmpEmpty); d != "" {
				t.Fatalf("round %d: SearchNodes(%+q, %q) (-rule +got):\n%s", round, q.Query, q.Match, d)
			}
			compared++
			if len(names) > 0 {
				found++
			}
			if i%4 != 0 {
				continue
			}
			// Page by page, cursors from the index given to the scan and
			// the other way round.
			q.Limit = 1 + i%4
			for page := 0; ; page++ {
				if page > len(g.Entities)+1 {
					t.Fatalf("SearchNodes(%+q) kept giving cursors", q.Query)
				}
				a, errA := s.SearchNodes(bg, q)
				b, errB := s.SearchNodesScan(bg, q)
				if errA != nil || errB != nil {
					t.Fatalf("page %d of %+q: %v, %v", page, q.Query, errA, errB)
				}
				if d := cmp.Diff(b, a, cmpEmpty); d != "" {
					t.Fatalf("round %d: page %d of SearchNodes(%+q, limit %d) (-scan +index):\n%s", round, page, q.Query, q.Limit, d)
				}
				if a.NextCursor == "" {
					break
				}
				paged++
				q.Cursor = a.NextCursor
				if page%2 == 1 {
					q.Cursor = b.NextCursor
				}
			}
		}
	}
	t.Logf("%d searches compared, %d finding something, %d further pages", compared, found, paged)
	if found < compared/4 || paged < 100 {
		t.Errorf("only %d of %d searches found anything, and %d further pages: the test checks too little", found, compared, paged)
	}
}
