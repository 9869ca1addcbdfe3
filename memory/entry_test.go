package memory_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-pba-tunnel/pbatunnel/memory"
)

func TestStoreGet(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		clock := memory.NewFakeClock()
		s := impl.open(t, memory.WithClock(memory.Options{}, clock.Now))
		tests := []struct {
			name string
			in   memory.NewEntry
			want memory.Entry // without ID
		}{
			{
				name: "defaults",
				in:   memory.NewEntry{Content: "the build needs Go 1.26"},
				want: memory.Entry{Content: "the build needs Go 1.26", ContextType: "general", Importance: 0.5,
					Tags: []string{}, Metadata: map[string]any{}},
			},
			{
				name: "every field",
				in: memory.NewEntry{
					ConversationID: "conv-1", SessionID: "sess-1", Content: "  keep the spaces  ",
					ContextType: " decision ", Importance: ptr(0.0),
					Tags:     []string{" db ", "prod", "db"},
					Metadata: map[string]any{"n": 3, "nested": map[string]any{"ok": true}, "list": []int{1, 2}},
					TTL:      90 * time.Minute,
				},
				want: memory.Entry{
					ConversationID: "conv-1", SessionID: "sess-1", Content: "  keep the spaces  ",
					ContextType: "decision", Importance: 0,
					Tags:      []string{"db", "prod"},
					Metadata:  map[string]any{"n": 3.0, "nested": map[string]any{"ok": true}, "list": []any{1.0, 2.0}},
					ExpiresAt: clock.Now().Add(90 * time.Minute),
				},
			},
			{
				name: "importance one, unicode",
				in:   memory.NewEntry{Content: "café 日本語 🙂", Importance: ptr(1.0), Tags: []string{"日本"}},
				want: memory.Entry{Content: "café 日本語 🙂", ContextType: "general", Importance: 1,
					Tags: []string{"日本"}, Metadata: map[string]any{}},
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got := mustStore(t, s, tt.in)
				if !strings.HasPrefix(got.ID, "mem_") || len(got.ID) != 30 {
					t.Errorf("id %q, want mem_ and 26 characters", got.ID)
				}
				tt.want.ID = got.ID
				tt.want.CreatedAt, tt.want.UpdatedAt = clock.Now(), clock.Now()
				if d := cmp.Diff(tt.want, got); d != "" {
					t.Errorf("Store returned (-want +got):\n%s", d)
				}
				for range 2 { // from the database, then from the cache
					again, err := s.Get(bg, got.ID)
					if err != nil {
						t.Fatal(err)
					}
					if d := cmp.Diff(got, again); d != "" {
						t.Errorf("Get differs from Store (-store +get):\n%s", d)
					}
				}
			})
		}
	})
}

func TestGetReturnsCopies(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		e := mustStore(t, s, memory.NewEntry{Content: "x", Tags: []string{"a"}, Metadata: map[string]any{"k": map[string]any{"v": 1}}})
		first, _ := s.Get(bg, e.ID) // now cached
		first.Tags[0] = "changed"
		first.Metadata["k"].(map[string]any)["v"] = 2
		second, err := s.Get(bg, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if second.Tags[0] != "a" || second.Metadata["k"].(map[string]any)["v"] != 1.0 {
			t.Errorf("changing a returned entry changed the cached one: %+v", second)
		}
	})
}

func TestIDsSortByCreation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		var prev string
		for i := range 50 {
			e := mustStore(t, s, memory.NewEntry{Content: "x"})
			if i > 0 && e.ID <= prev {
				t.Fatalf("id %s after %s does not sort after it", e.ID, prev)
			}
			prev = e.ID
		}
	})
}

func TestStoreInvalid(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		long := func(n int) string { return strings.Repeat("x", n) }
		tags := make([]string, memory.MaxTags+1)
		for i := range tags {
			tags[i] = string(rune('a'+i%26)) + strings.Repeat("t", i)
		}
		tests := []struct {
			name string
			in   memory.NewEntry
			msg  []string
		}{
			{"no content", memory.NewEntry{}, []string{"content", "required"}},
			{"blank content", memory.NewEntry{Content: " \n\t"}, []string{"content", "white space"}},
			{"content too long", memory.NewEntry{Content: long(memory.MaxContentBytes + 1)}, []string{"content", "1048577 bytes", "at most 1048576"}},
			{"content not UTF-8", memory.NewEntry{Content: "ab\xffcd"}, []string{"content", "UTF-8"}},
			{"content with NUL", memory.NewEntry{Content: "a\x00b"}, []string{"content", "NUL"}},
			{"importance above 1", memory.NewEntry{Content: "x", Importance: ptr(1.5)}, []string{"invalid importance 1.5: must be between 0 and 1"}},
			{"importance negative", memory.NewEntry{Content: "x", Importance: ptr(-0.1)}, []string{"importance -0.1"}},
			{"importance NaN", memory.NewEntry{Content: "x", Importance: ptr(nan())}, []string{"importance NaN"}},
			{"empty tag", memory.NewEntry{Content: "x", Tags: []string{"a", " "}}, []string{"tags", "empty"}},
			{"tag too long", memory.NewEntry{Content: "x", Tags: []string{long(65)}}, []string{"tag", "65 bytes", "at most 64"}},
			{"tag with newline", memory.NewEntry{Content: "x", Tags: []string{"a\nb"}}, []string{"tag", "control character"}},
			{"too many tags", memory.NewEntry{Content: "x", Tags: tags}, []string{"tags", "33 tags", "at most 32"}},
			{"context type too long", memory.NewEntry{Content: "x", ContextType: long(65)}, []string{"context_type", "at most 64"}},
			{"conversation id with control", memory.NewEntry{Content: "x", ConversationID: "a\tb"}, []string{"conversation_id", "control"}},
			{"session id too long", memory.NewEntry{Content: "x", SessionID: long(257)}, []string{"session_id", "at most 256"}},
			{"negative ttl", memory.NewEntry{Content: "x", TTL: -time.Second}, []string{"ttl -1s", "negative"}},
			{"ttl too long", memory.NewEntry{Content: "x", TTL: memory.MaxTTL + time.Hour}, []string{"ttl", "100 years"}},
			{"ttl below a millisecond", memory.NewEntry{Content: "x", TTL: time.Microsecond}, []string{"ttl 1µs", "at least 1ms"}},
			{"metadata not encodable", memory.NewEntry{Content: "x", Metadata: map[string]any{"f": nan()}}, []string{"metadata", "NaN"}},
			{"metadata too big", memory.NewEntry{Content: "x", Metadata: map[string]any{"big": long(memory.MaxMetadataBytes)}}, []string{"metadata", "at most 65536"}},
			// JSON may carry \u0000; PostgreSQL's jsonb cannot hold it.
			{"metadata value with NUL", memory.NewEntry{Content: "x", Metadata: map[string]any{"k": []any{"ok", map[string]any{"v": "a\x00b"}}}},
				[]string{"invalid metadata", `k[1].v`, "NUL"}},
			{"metadata key with NUL", memory.NewEntry{Content: "x", Metadata: map[string]any{"a\x00b": 1}}, []string{"invalid metadata", "NUL"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.Store(bg, tt.in)
				checkErr(t, err, memory.ErrInvalid, tt.msg...)
			})
		}
		if n, err := s.EntryCount(bg); err != nil || n != 0 {
			t.Errorf("EntryCount = %d, %v after only invalid stores; want 0", n, err)
		}
	})
}

func TestGetInvalidAndMissing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		tests := []struct {
			id   string
			want error
			msg  []string
		}{
			{"", memory.ErrInvalid, []string{"invalid id: required"}},
			{strings.Repeat("m", 129), memory.ErrInvalid, []string{"id", "at most 128"}},
			{"mem_nope", memory.ErrNotFound, []string{"entry mem_nope not found"}},
		}
		for _, tt := range tests {
			_, err := s.Get(bg, tt.id)
			checkErr(t, err, tt.want, tt.msg...)
		}
	})
}

// An id no entry can have, with a NUL byte or not valid UTF-8 (which
// PostgreSQL cannot take as text), is refused as invalid by every method
// that takes one, on every store, rather than failing in the database.
func TestIDsNoEntryCanHave(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		e := mustStore(t, s, memory.NewEntry{Content: "x"})
		for _, tt := range []struct{ id, msg string }{{"mem_\x00", "NUL"}, {"mem_\xff", "UTF-8"}} {
			calls := []struct {
				name, field string
				call        func() error
			}{
				{"Get", "id", func() error { _, err := s.Get(bg, tt.id); return err }},
				{"Update", "id", func() error { _, err := s.Update(bg, tt.id, memory.Patch{Content: ptr("y")}); return err }},
				{"Delete", "id", func() error { return s.Delete(bg, tt.id) }},
				{"Context", "id", func() error { _, err := s.Context(bg, tt.id, 1); return err }},
				{"Relate source", "source_id", func() error {
					_, err := s.Relate(bg, memory.NewRelationship{SourceID: tt.id, TargetID: e.ID, Type: "t"})
					return err
				}},
				{"Relate target", "target_id", func() error {
					_, err := s.Relate(bg, memory.NewRelationship{SourceID: e.ID, TargetID: tt.id, Type: "t"})
					return err
				}},
				{"Retrieve", "ids[1]", func() error {
					_, err := s.Retrieve(bg, memory.Query{IDs: []string{e.ID, tt.id}})
					return err
				}},
			}
			for _, c := range calls {
				t.Run(c.name+" "+tt.msg, func(t *testing.T) {
					checkErr(t, c.call(), memory.ErrInvalid, "invalid "+c.field, tt.msg)
				})
			}
		}
	})
}

func TestUpdate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		clock := memory.NewFakeClock()
		s := impl.open(t, memory.WithClock(memory.Options{}, clock.Now))
		base := memory.NewEntry{
			Content: "original", ContextType: "note", Importance: ptr(0.3), Tags: []string{"a", "b"},
			Metadata: map[string]any{"keep": "yes", "drop": 1, "nested": map[string]any{"x": 1, "y": 2}},
			TTL:      time.Hour,
		}
		t0 := clock.Now()
		tests := []struct {
			name  string
			patch memory.Patch
			edit  func(e *memory.Entry) // the change expected on the stored entry
		}{
			{"content", memory.Patch{Content: ptr("rewritten")}, func(e *memory.Entry) { e.Content = "rewritten" }},
			{"context type", memory.Patch{ContextType: ptr("decision")}, func(e *memory.Entry) { e.ContextType = "decision" }},
			{"context type blank means default", memory.Patch{ContextType: ptr(" ")}, func(e *memory.Entry) { e.ContextType = "general" }},
			{"importance to zero", memory.Patch{Importance: ptr(0.0)}, func(e *memory.Entry) { e.Importance = 0 }},
			{"tags replaced", memory.Patch{Tags: &[]string{"c"}}, func(e *memory.Entry) { e.Tags = []string{"c"} }},
			{"tags emptied", memory.Patch{Tags: &[]string{}}, func(e *memory.Entry) { e.Tags = []string{} }},
			{
				"metadata merged",
				memory.Patch{Metadata: map[string]any{"drop": nil, "new": "v", "nested": map[string]any{"x": nil, "z": 3}}},
				func(e *memory.Entry) {
					e.Metadata = map[string]any{"keep": "yes", "new": "v", "nested": map[string]any{"y": 2.0, "z": 3.0}}
				},
			},
			{
				"metadata replaced",
				memory.Patch{Metadata: map[string]any{"only": true}, ReplaceMetadata: true},
				func(e *memory.Entry) { e.Metadata = map[string]any{"only": true} },
			},
			{
				"metadata cleared",
				memory.Patch{ReplaceMetadata: true},
				func(e *memory.Entry) { e.Metadata = map[string]any{} },
			},
			{"ttl restarted", memory.Patch{TTL: ptr(2 * time.Hour)}, func(e *memory.Entry) { e.ExpiresAt = t0.Add(time.Minute + 2*time.Hour) }},
			{"ttl removed", memory.Patch{TTL: ptr(time.Duration(0))}, func(e *memory.Entry) { e.ExpiresAt = time.Time{} }},
			{
				"several at once",
				memory.Patch{Content: ptr("both"), Importance: ptr(1.0)},
				func(e *memory.Entry) { e.Content, e.Importance = "both", 1 },
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				orig := mustStore(t, s, base)
				if _, err := s.Get(bg, orig.ID); err != nil { // cache it
					t.Fatal(err)
				}
				clock.Advance(time.Minute)
				defer clock.Advance(-time.Minute)
				want := orig
				tt.edit(&want)
				want.UpdatedAt = clock.Now()
				got, err := s.Update(bg, orig.ID, tt.patch)
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("Update returned (-want +got):\n%s", d)
				}
				again, err := s.Get(bg, orig.ID)
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(got, again); d != "" {
					t.Errorf("Get after Update (-update +get):\n%s", d)
				}
			})
		}
	})
}

func TestUpdateInvalid(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		e := mustStore(t, s, memory.NewEntry{Content: "x", Metadata: map[string]any{"a": strings.Repeat("x", memory.MaxMetadataBytes-100)}})
		tests := []struct {
			name  string
			id    string
			patch memory.Patch
			want  error
			msg   []string
		}{
			{"nothing to change", e.ID, memory.Patch{}, memory.ErrInvalid, []string{"patch", "changes nothing"}},
			{"no id", "", memory.Patch{Content: ptr("x")}, memory.ErrInvalid, []string{"invalid id: required"}},
			{"blank content", e.ID, memory.Patch{Content: ptr("")}, memory.ErrInvalid, []string{"content", "required"}},
			{"importance", e.ID, memory.Patch{Importance: ptr(2.0)}, memory.ErrInvalid, []string{"invalid importance 2: must be between 0 and 1"}},
			{"tag", e.ID, memory.Patch{Tags: &[]string{""}}, memory.ErrInvalid, []string{"tags", "empty"}},
			{"ttl", e.ID, memory.Patch{TTL: ptr(-time.Minute)}, memory.ErrInvalid, []string{"ttl -1m0s"}},
			{"merged metadata too big", e.ID, memory.Patch{Metadata: map[string]any{"b": strings.Repeat("y", 200)}},
				memory.ErrInvalid, []string{"metadata", "once merged", "at most 65536"}},
			{"metadata with NUL", e.ID, memory.Patch{Metadata: map[string]any{"n": "\x00"}}, memory.ErrInvalid, []string{"invalid metadata", "NUL"}},
			{"missing", "mem_missing", memory.Patch{Content: ptr("x")}, memory.ErrNotFound, []string{"entry mem_missing not found"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.Update(bg, tt.id, tt.patch)
				checkErr(t, err, tt.want, tt.msg...)
			})
		}
		// A refused update changed nothing.
		got, err := s.Get(bg, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(e, got); d != "" {
			t.Errorf("entry changed by refused updates (-before +after):\n%s", d)
		}
	})
}

func TestDelete(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		a := mustStore(t, s, memory.NewEntry{Content: "a"})
		b := mustStore(t, s, memory.NewEntry{Content: "b"})
		if _, err := s.Get(bg, a.ID); err != nil { // cached
			t.Fatal(err)
		}
		if err := s.Delete(bg, a.ID); err != nil {
			t.Fatal(err)
		}
		_, err := s.Get(bg, a.ID)
		checkErr(t, err, memory.ErrNotFound, a.ID)
		checkErr(t, s.Delete(bg, a.ID), memory.ErrNotFound, "entry "+a.ID+" not found")
		checkErr(t, s.Delete(bg, ""), memory.ErrInvalid, "id")
		if _, err := s.Get(bg, b.ID); err != nil {
			t.Errorf("the other entry: %v", err)
		}
	})
}

func TestClear(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		var keep []memory.Entry
		var gone []memory.Entry
		for i := range 5 {
			gone = append(gone, mustStore(t, s, memory.NewEntry{Content: "gone", ConversationID: "c1"}))
			keep = append(keep, mustStore(t, s, memory.NewEntry{Content: "kept", ConversationID: "c2"}))
			if i == 0 {
				keep = append(keep, mustStore(t, s, memory.NewEntry{Content: "kept, no conversation"}))
			}
		}
		mustRelate(t, s, gone[0], keep[0], "x") // crosses conversations: goes with gone[0]
		mustRelate(t, s, keep[0], keep[1], "x") // stays
		mustRelate(t, s, gone[1], gone[2], "x") // goes

		n, err := s.Clear(bg, "c1")
		if err != nil || n != 5 {
			t.Fatalf("Clear = %d, %v; want 5", n, err)
		}
		for _, e := range gone {
			if _, err := s.Get(bg, e.ID); !isNotFound(err) {
				t.Errorf("cleared entry %s: Get error %v", e.ID, err)
			}
		}
		for _, e := range keep {
			if _, err := s.Get(bg, e.ID); err != nil {
				t.Errorf("kept entry %s: %v", e.ID, err)
			}
		}
		if r, err := s.RelationshipCount(bg); err != nil || r != 1 {
			t.Errorf("RelationshipCount = %d, %v; want 1", r, err)
		}
		if n, err := s.Clear(bg, "c1"); err != nil || n != 0 {
			t.Errorf("second Clear = %d, %v; want 0, nil", n, err)
		}
		_, err = s.Clear(bg, "")
		checkErr(t, err, memory.ErrInvalid, "conversation_id", "required")
		_, err = s.Clear(bg, "a\x01")
		checkErr(t, err, memory.ErrInvalid, "conversation_id", "control")
	})
}
