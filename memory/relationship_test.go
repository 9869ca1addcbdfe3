package memory_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-pba-tunnel/pbatunnel/memory"
)

func TestRelate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		clock := memory.NewFakeClock()
		s := impl.open(t, memory.WithClock(memory.Options{}, clock.Now))
		a := mustStore(t, s, memory.NewEntry{Content: "a"})
		b := mustStore(t, s, memory.NewEntry{Content: "b"})

		r, err := s.Relate(bg, memory.NewRelationship{SourceID: a.ID, TargetID: b.ID, Type: " supports "})
		if err != nil {
			t.Fatal(err)
		}
		want := memory.Relationship{ID: r.ID, SourceID: a.ID, TargetID: b.ID, Type: "supports", Strength: 1,
			Metadata: map[string]any{}, CreatedAt: clock.Now(), UpdatedAt: clock.Now()}
		if d := cmp.Diff(want, r); d != "" {
			t.Errorf("new relationship (-want +got):\n%s", d)
		}
		if !strings.HasPrefix(r.ID, "rel_") {
			t.Errorf("id %q does not start with rel_", r.ID)
		}

		// Relating again updates what is given and keeps the rest.
		clock.Advance(time.Minute)
		r2, err := s.Relate(bg, memory.NewRelationship{SourceID: a.ID, TargetID: b.ID, Type: "supports",
			Strength: ptr(0.25), Metadata: map[string]any{"why": "test"}})
		if err != nil {
			t.Fatal(err)
		}
		want.Strength, want.Metadata, want.UpdatedAt = 0.25, map[string]any{"why": "test"}, clock.Now()
		if d := cmp.Diff(want, r2); d != "" {
			t.Errorf("related again (-want +got):\n%s", d)
		}
		r3, err := s.Relate(bg, memory.NewRelationship{SourceID: a.ID, TargetID: b.ID, Type: "supports"})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, r3); d != "" {
			t.Errorf("related again without strength or metadata (-want +got):\n%s", d)
		}

		// Another type, or the other direction, is another relationship.
		mustRelate(t, s, a, b, "follows")
		mustRelate(t, s, b, a, "supports")
		if n, err := s.RelationshipCount(bg); err != nil || n != 3 {
			t.Errorf("RelationshipCount = %d, %v; want 3", n, err)
		}
	})
}

func TestRelateInvalid(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		clock := memory.NewFakeClock()
		s := impl.open(t, memory.WithClock(memory.Options{}, clock.Now))
		a := mustStore(t, s, memory.NewEntry{Content: "a"})
		b := mustStore(t, s, memory.NewEntry{Content: "b"})
		expired := mustStore(t, s, memory.NewEntry{Content: "soon gone", TTL: time.Second})
		clock.Advance(time.Minute)
		tests := []struct {
			name string
			nr   memory.NewRelationship
			want error
			msg  []string
		}{
			{"no source", memory.NewRelationship{TargetID: b.ID, Type: "x"}, memory.ErrInvalid, []string{"invalid source_id: required"}},
			{"no target", memory.NewRelationship{SourceID: a.ID, Type: "x"}, memory.ErrInvalid, []string{"invalid target_id: required"}},
			{"no type", memory.NewRelationship{SourceID: a.ID, TargetID: b.ID, Type: "  "}, memory.ErrInvalid, []string{"invalid type: required"}},
			{"type too long", memory.NewRelationship{SourceID: a.ID, TargetID: b.ID, Type: strings.Repeat("t", 65)}, memory.ErrInvalid, []string{"type", "at most 64"}},
			{"self", memory.NewRelationship{SourceID: a.ID, TargetID: a.ID, Type: "x"}, memory.ErrInvalid, []string{"target_id", "same as source_id", "itself"}},
			{"strength", memory.NewRelationship{SourceID: a.ID, TargetID: b.ID, Type: "x", Strength: ptr(1.01)}, memory.ErrInvalid, []string{"invalid strength 1.01: must be between 0 and 1"}},
			{"metadata", memory.NewRelationship{SourceID: a.ID, TargetID: b.ID, Type: "x", Metadata: map[string]any{"c": make(chan int)}}, memory.ErrInvalid, []string{"metadata"}},
			{"metadata with NUL", memory.NewRelationship{SourceID: a.ID, TargetID: b.ID, Type: "x", Metadata: map[string]any{"c": "\x00"}}, memory.ErrInvalid, []string{"invalid metadata", "NUL"}},
			{"missing source", memory.NewRelationship{SourceID: "mem_gone", TargetID: b.ID, Type: "x"}, memory.ErrNotFound, []string{"source entry mem_gone not found"}},
			{"missing target", memory.NewRelationship{SourceID: a.ID, TargetID: "mem_gone", Type: "x"}, memory.ErrNotFound, []string{"target entry mem_gone not found"}},
			{"expired target", memory.NewRelationship{SourceID: a.ID, TargetID: expired.ID, Type: "x"}, memory.ErrNotFound, []string{"target entry " + expired.ID + " not found"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.Relate(bg, tt.nr)
				checkErr(t, err, tt.want, tt.msg...)
			})
		}
		if n, err := s.RelationshipCount(bg); err != nil || n != 0 {
			t.Errorf("RelationshipCount = %d, %v after refused relates; want 0", n, err)
		}
	})
}

func TestContext(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		clock := memory.NewFakeClock()
		s := impl.open(t, memory.WithClock(memory.Options{}, clock.Now))
		e := map[string]memory.Entry{}
		for _, n := range strings.Fields("root a b c d x y far gone") {
			ne := memory.NewEntry{Content: n}
			if n == "gone" {
				ne.TTL = time.Second
			}
			e[n] = mustStore(t, s, ne)
		}
		rel := func(from, to string, strength float64) {
			_, err := s.Relate(bg, memory.NewRelationship{SourceID: e[from].ID, TargetID: e[to].ID, Type: "link", Strength: ptr(strength)})
			if err != nil {
				t.Fatal(err)
			}
		}
		// root → a (0.9), b → root (0.5), root → c (0.7); a → d, b → d (a
		// diamond: d is reached once); d → x; y → x; x → far; root → gone.
		rel("root", "a", 0.9)
		rel("b", "root", 0.5)
		rel("root", "c", 0.7)
		rel("a", "d", 1)
		rel("b", "d", 1)
		rel("d", "x", 1)
		rel("y", "x", 1)
		rel("x", "far", 1)
		rel("root", "gone", 1)
		clock.Advance(time.Minute) // gone expires

		type hop struct {
			name, dir string
			depth     int
		}
		tests := []struct {
			depth int
			want  []hop
		}{
			{0, []hop{{"a", "out", 1}, {"c", "out", 1}, {"b", "in", 1}}}, // 0 means 1
			{1, []hop{{"a", "out", 1}, {"c", "out", 1}, {"b", "in", 1}}},
			{2, []hop{{"a", "out", 1}, {"c", "out", 1}, {"b", "in", 1}, {"d", "out", 2}}},
			{3, []hop{{"a", "out", 1}, {"c", "out", 1}, {"b", "in", 1}, {"d", "out", 2}, {"x", "out", 3}}},
			{5, []hop{{"a", "out", 1}, {"c", "out", 1}, {"b", "in", 1}, {"d", "out", 2}, {"x", "out", 3}, {"y", "in", 4}, {"far", "out", 4}}},
		}
		names := map[string]string{}
		for n, en := range e {
			names[en.ID] = n
		}
		for _, tt := range tests {
			t.Run(fmt.Sprint("depth ", tt.depth), func(t *testing.T) {
				res, err := s.Context(bg, e["root"].ID, tt.depth)
				if err != nil {
					t.Fatal(err)
				}
				if res.Entry.ID != e["root"].ID || res.Truncated {
					t.Errorf("entry %s, truncated %v", res.Entry.ID, res.Truncated)
				}
				var got []hop
				for _, r := range res.Related {
					got = append(got, hop{names[r.Entry.ID], r.Direction, r.Depth})
					// The relationship links this entry to one nearer the start.
					if r.Relationship.SourceID != r.Entry.ID && r.Relationship.TargetID != r.Entry.ID {
						t.Errorf("%s reached through %+v, which does not touch it", names[r.Entry.ID], r.Relationship)
					}
				}
				if d := cmp.Diff(tt.want, got, cmp.AllowUnexported(hop{}), cmpEmpty); d != "" {
					t.Errorf("(-want +got):\n%s", d)
				}
			})
		}

		_, err := s.Context(bg, e["root"].ID, 6)
		checkErr(t, err, memory.ErrInvalid, "invalid depth 6: must be between 1 and 5")
		_, err = s.Context(bg, e["root"].ID, -1)
		checkErr(t, err, memory.ErrInvalid, "invalid depth -1")
		_, err = s.Context(bg, "", 1)
		checkErr(t, err, memory.ErrInvalid, "invalid id: required")
		_, err = s.Context(bg, "mem_nobody", 1)
		checkErr(t, err, memory.ErrNotFound, "entry mem_nobody not found")
		_, err = s.Context(bg, e["gone"].ID, 1)
		checkErr(t, err, memory.ErrNotFound, e["gone"].ID)

		lonely := mustStore(t, s, memory.NewEntry{Content: "lonely"})
		res, err := s.Context(bg, lonely.ID, 5)
		if err != nil || len(res.Related) != 0 || res.Related == nil {
			t.Errorf("lonely entry: %+v, %v; want no related, as an empty list", res.Related, err)
		}
	})
}

func TestContextBounded(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		hub := mustStore(t, s, memory.NewEntry{Content: "hub"})
		for i := range memory.MaxRelated + 20 {
			leaf := mustStore(t, s, memory.NewEntry{Content: fmt.Sprint("leaf ", i)})
			mustRelate(t, s, hub, leaf, "has")
		}
		res, err := s.Context(bg, hub.ID, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Related) != memory.MaxRelated || !res.Truncated {
			t.Errorf("%d related, truncated %v; want %d, true", len(res.Related), res.Truncated, memory.MaxRelated)
		}
		seen := map[string]bool{}
		for _, r := range res.Related {
			if seen[r.Entry.ID] {
				t.Errorf("%s twice", r.Entry.ID)
			}
			seen[r.Entry.ID] = true
		}
	})
}

func TestDeleteCascades(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		a := mustStore(t, s, memory.NewEntry{Content: "a"})
		b := mustStore(t, s, memory.NewEntry{Content: "b"})
		c := mustStore(t, s, memory.NewEntry{Content: "c"})
		mustRelate(t, s, a, b, "x")
		mustRelate(t, s, c, a, "y")
		mustRelate(t, s, b, c, "z")
		if err := s.Delete(bg, a.ID); err != nil {
			t.Fatal(err)
		}
		if n, err := s.RelationshipCount(bg); err != nil || n != 1 {
			t.Errorf("RelationshipCount = %d, %v; want 1 (b→c)", n, err)
		}
		res, err := s.Context(bg, b.ID, 5)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(idsOf(c), entryIDs(relatedEntries(res))); d != "" {
			t.Errorf("context of b after deleting a (-want +got):\n%s", d)
		}
	})
}

func relatedEntries(res memory.ContextResult) []memory.Entry {
	var es []memory.Entry
	for _, r := range res.Related {
		es = append(es, r.Entry)
	}
	return es
}
