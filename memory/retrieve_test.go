package memory_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-pba-tunnel/pbatunnel/memory"
)

func TestRetrieveFilters(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		clock := memory.NewFakeClock()
		s := impl.open(t, memory.WithClock(memory.Options{}, clock.Now))
		t0 := clock.Now()
		at := func(d time.Duration, ne memory.NewEntry) memory.Entry {
			clock.Advance(d)
			return mustStore(t, s, ne)
		}
		a := at(0, memory.NewEntry{Content: "a", ConversationID: "c1", SessionID: "s1", ContextType: "code", Importance: ptr(0.9), Tags: []string{"go", "db"}})
		b := at(time.Minute, memory.NewEntry{Content: "b", ConversationID: "c1", SessionID: "s2", Importance: ptr(0.2), Tags: []string{"go"}})
		c := at(time.Minute, memory.NewEntry{Content: "c", ConversationID: "c2", SessionID: "s1", ContextType: "code", Tags: []string{"db"}})
		d := at(time.Minute, memory.NewEntry{Content: "d", Importance: ptr(1.0)})
		e := at(time.Minute, memory.NewEntry{Content: "e", ConversationID: "c1", TTL: time.Second}) // expires below
		clock.Advance(time.Hour)

		tests := []struct {
			name string
			q    memory.Query
			want []string // in order
		}{
			{"all, newest first", memory.Query{}, idsOf(d, c, b, a)},
			{"conversation", memory.Query{Filter: memory.Filter{ConversationID: "c1"}}, idsOf(b, a)},
			{"session", memory.Query{Filter: memory.Filter{SessionID: "s1"}}, idsOf(c, a)},
			{"context type", memory.Query{Filter: memory.Filter{ContextType: "code"}}, idsOf(c, a)},
			{"one tag", memory.Query{Filter: memory.Filter{Tags: []string{"go"}}}, idsOf(b, a)},
			{"all tags must match", memory.Query{Filter: memory.Filter{Tags: []string{"go", "db"}}}, idsOf(a)},
			{"unknown tag", memory.Query{Filter: memory.Filter{Tags: []string{"rust"}}}, nil},
			{"min importance", memory.Query{Filter: memory.Filter{MinImportance: 0.5}}, idsOf(d, c, a)},
			{"since is inclusive", memory.Query{Filter: memory.Filter{Since: t0.Add(time.Minute)}}, idsOf(d, c, b)},
			{"until is exclusive", memory.Query{Filter: memory.Filter{Until: t0.Add(2 * time.Minute)}}, idsOf(b, a)},
			{"since and until", memory.Query{Filter: memory.Filter{Since: t0.Add(time.Minute), Until: t0.Add(3 * time.Minute)}}, idsOf(c, b)},
			{"combined", memory.Query{Filter: memory.Filter{ConversationID: "c1", Tags: []string{"go"}, MinImportance: 0.5}}, idsOf(a)},
			{"ids", memory.Query{IDs: []string{a.ID, d.ID, "mem_missing", e.ID}}, idsOf(d, a)},
			{"ids and a filter", memory.Query{IDs: []string{a.ID, b.ID, d.ID}, Filter: memory.Filter{ConversationID: "c1"}}, idsOf(b, a)},
			{"limit", memory.Query{Limit: 2}, idsOf(d, c)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				page, err := s.Retrieve(bg, tt.q)
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(tt.want, entryIDs(page.Entries), cmpEmpty); d != "" {
					t.Errorf("ids (-want +got):\n%s", d)
				}
			})
		}
	})
}

func TestRetrieveTotal(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		for i := range 7 {
			mustStore(t, s, memory.NewEntry{Content: "x", ConversationID: fmt.Sprint("c", i%2)})
		}
		page, err := s.Retrieve(bg, memory.Query{Filter: memory.Filter{ConversationID: "c0"}, Limit: 2, CountTotal: true})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total == nil || *page.Total != 4 || len(page.Entries) != 2 {
			t.Errorf("Total %v with %d entries; want 4 with 2", page.Total, len(page.Entries))
		}
		page, err = s.Retrieve(bg, memory.Query{})
		if err != nil || page.Total != nil {
			t.Errorf("Total %v, %v without CountTotal; want nil", page.Total, err)
		}
	})
}

// Paging returns every entry exactly once, newest first, also when many
// entries share a millisecond and when entries are added between pages.
func TestRetrievePagination(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		clock := memory.NewFakeClock()
		s := impl.open(t, memory.WithClock(memory.Options{}, clock.Now))
		var want []string
		for i := range 53 {
			if i%5 == 0 {
				clock.Advance(time.Millisecond) // runs of entries in the same millisecond
			}
			e := mustStore(t, s, memory.NewEntry{Content: fmt.Sprint("entry ", i), ConversationID: "c"})
			want = append(want, e.ID)
		}
		slices.Reverse(want)
		for _, limit := range []int{1, 7, 10, 53, 100} {
			t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
				var got []string
				q := memory.Query{Filter: memory.Filter{ConversationID: "c"}, Limit: limit}
				for pages := 0; ; pages++ {
					if pages > 60 {
						t.Fatal("paging does not end")
					}
					page, err := s.Retrieve(bg, q)
					if err != nil {
						t.Fatal(err)
					}
					if len(page.Entries) > limit {
						t.Fatalf("page of %d entries, limit %d", len(page.Entries), limit)
					}
					got = append(got, entryIDs(page.Entries)...)
					if page.NextCursor == "" {
						break
					}
					if pages == 0 {
						// A newer entry written meanwhile does not shift pages.
						clock.Advance(time.Millisecond)
						extra := mustStore(t, s, memory.NewEntry{Content: "late", ConversationID: "c"})
						defer s.Delete(bg, extra.ID)
					}
					q.Cursor = page.NextCursor
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("paged ids (-want +got):\n%s", d)
				}
			})
		}
	})
}

func TestRetrieveInvalid(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		for range 3 {
			mustStore(t, s, memory.NewEntry{Content: "x", ConversationID: "c"})
		}
		page, err := s.Retrieve(bg, memory.Query{Filter: memory.Filter{ConversationID: "c"}, Limit: 1})
		if err != nil || page.NextCursor == "" {
			t.Fatalf("first page: %v, cursor %q", err, page.NextCursor)
		}
		search, err := s.Search(bg, memory.SearchQuery{Text: "x", Limit: 1})
		if err != nil || search.NextCursor == "" {
			t.Fatalf("search: %v, cursor %q", err, search.NextCursor)
		}
		now := time.Now()
		tests := []struct {
			name string
			q    memory.Query
			msg  []string
		}{
			{"limit too big", memory.Query{Limit: 101}, []string{"invalid limit 101: must be between 1 and 100"}},
			{"negative limit", memory.Query{Limit: -1}, []string{"invalid limit -1"}},
			{"min importance", memory.Query{Filter: memory.Filter{MinImportance: 1.1}}, []string{"invalid min_importance 1.1: must be between 0 and 1"}},
			{"until before since", memory.Query{Filter: memory.Filter{Since: now, Until: now.Add(-time.Second)}}, []string{"invalid until", "must be after since"}},
			{"until equals since", memory.Query{Filter: memory.Filter{Since: now, Until: now}}, []string{"invalid until"}},
			{"empty tag", memory.Query{Filter: memory.Filter{Tags: []string{""}}}, []string{"tags", "empty"}},
			{"context type", memory.Query{Filter: memory.Filter{ContextType: strings.Repeat("x", 65)}}, []string{"context_type", "at most 64"}},
			{"conversation", memory.Query{Filter: memory.Filter{ConversationID: "a\nb"}}, []string{"conversation_id", "control"}},
			{"empty id", memory.Query{IDs: []string{"mem_a", ""}}, []string{"invalid ids[1]: required"}},
			{"too many ids", memory.Query{IDs: make([]string, 101)}, []string{"ids", "101 ids", "at most 100"}},
			{"garbage cursor", memory.Query{Cursor: "not a cursor!"}, []string{"invalid cursor", "not a cursor this store issued"}},
			{"cursor of other filters", memory.Query{Cursor: page.NextCursor, Filter: memory.Filter{ConversationID: "d"}, Limit: 1},
				[]string{"invalid cursor", "other filters"}},
			{"cursor of a search", memory.Query{Cursor: search.NextCursor}, []string{"invalid cursor", "issued by search, not retrieve"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.Retrieve(bg, tt.q)
				checkErr(t, err, memory.ErrInvalid, tt.msg...)
			})
		}
	})
}
