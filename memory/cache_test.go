package memory_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/mcp-pba-tunnel/pbatunnel/memory"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

func newMonitor() *monitor.Monitor {
	return monitor.New(monitor.Options{DisableSystem: true})
}

func cacheStats(tb testing.TB, s memory.Store) memory.CacheStats {
	tb.Helper()
	st, err := s.Stats(bg)
	if err != nil {
		tb.Fatal(err)
	}
	return st.Cache
}

func TestCacheHits(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		m := newMonitor()
		s := impl.open(t, memory.Options{Monitor: m})
		e := mustStore(t, s, memory.NewEntry{Content: "x"})
		for range 3 {
			if _, err := s.Get(bg, e.ID); err != nil {
				t.Fatal(err)
			}
		}
		snap := m.Sample(bg)
		if snap.CacheHits != 2 || snap.CacheMisses != 1 {
			t.Errorf("monitor saw %d hits, %d misses; want 2, 1", snap.CacheHits, snap.CacheMisses)
		}
		if got := cacheStats(t, s); got != (memory.CacheStats{Hits: 2, Misses: 1, Size: 1, Capacity: memory.DefaultCacheSize}) {
			t.Errorf("Stats.Cache = %+v", got)
		}
		// A miss for an entry that does not exist is a lookup too.
		if _, err := s.Get(bg, "mem_none"); !isNotFound(err) {
			t.Fatal(err)
		}
		if snap := m.Sample(bg); snap.CacheMisses != 2 {
			t.Errorf("misses %d after looking up a missing entry, want 2", snap.CacheMisses)
		}
	})
}

func TestCacheInvalidatedByWrites(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		e := mustStore(t, s, memory.NewEntry{Content: "v1"})
		other := mustStore(t, s, memory.NewEntry{Content: "other"})
		get := func(id string) (memory.Entry, error) {
			t.Helper()
			s.Get(bg, id) // cached…
			return s.Get(bg, id)
		}
		if _, err := s.Update(bg, e.ID, memory.Patch{Content: ptr("v2")}); err != nil {
			t.Fatal(err)
		}
		if got, err := get(e.ID); err != nil || got.Content != "v2" {
			t.Errorf("after Update: %q, %v; want v2", got.Content, err)
		}
		// This store's own writes leave the rest of the cache in place.
		before := cacheStats(t, s).Hits
		mustStore(t, s, memory.NewEntry{Content: "unrelated"})
		if _, err := s.Get(bg, e.ID); err != nil {
			t.Fatal(err)
		}
		if after := cacheStats(t, s).Hits; after != before+1 {
			t.Errorf("Get after an unrelated write of this store missed the cache (hits %d → %d)", before, after)
		}
		if err := s.Delete(bg, e.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := get(e.ID); !isNotFound(err) {
			t.Errorf("after Delete: %v, want not found", err)
		}
		if got, err := get(other.ID); err != nil || got.Content != "other" {
			t.Errorf("other entry: %q, %v", got.Content, err)
		}
	})
}

// A write by another Store on the same file — another process, as far as
// SQLite can tell — is seen by this store's next Get.
func TestCacheSeesOtherWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	s1 := memory.MustOpenOptions(t, memory.Options{Path: path})
	s2 := memory.MustOpenOptions(t, memory.Options{Path: path})
	e := mustStore(t, s1, memory.NewEntry{Content: "v1", ConversationID: "c"})
	for range 2 {
		if got, err := s1.Get(bg, e.ID); err != nil || got.Content != "v1" {
			t.Fatalf("Get: %q, %v", got.Content, err)
		}
	}
	if cacheStats(t, s1).Hits != 1 {
		t.Fatalf("the second Get was not a cache hit")
	}

	if _, err := s2.Update(bg, e.ID, memory.Patch{Content: ptr("v2")}); err != nil {
		t.Fatal(err)
	}
	if got, err := s1.Get(bg, e.ID); err != nil || got.Content != "v2" {
		t.Errorf("after the other store's Update: %q, %v; want v2", got.Content, err)
	}

	// A writer that is not a Store at all, such as the sqlite3 shell.
	raw, err := sql.Open("sqlite", memory.DSN(path, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE entries SET content = 'v3' WHERE id = ?`, e.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := s1.Get(bg, e.ID); err != nil || got.Content != "v3" {
		t.Errorf("after a raw UPDATE: %q, %v; want v3", got.Content, err)
	}

	if _, err := s2.Clear(bg, "c"); err != nil {
		t.Fatal(err)
	}
	if _, err := s1.Get(bg, e.ID); !isNotFound(err) {
		t.Errorf("after the other store's Clear: %v, want not found", err)
	}
}

func TestCacheEviction(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{CacheSize: 2})
		a := mustStore(t, s, memory.NewEntry{Content: "a"})
		b := mustStore(t, s, memory.NewEntry{Content: "b"})
		c := mustStore(t, s, memory.NewEntry{Content: "c"})
		for _, id := range []string{a.ID, b.ID, a.ID, c.ID} { // miss, miss, hit, miss (evicts b)
			if _, err := s.Get(bg, id); err != nil {
				t.Fatal(err)
			}
		}
		if got := cacheStats(t, s); got != (memory.CacheStats{Hits: 1, Misses: 3, Size: 2, Capacity: 2}) {
			t.Errorf("after filling: %+v", got)
		}
		for _, id := range []string{a.ID, c.ID, b.ID} { // hit, hit, miss
			if _, err := s.Get(bg, id); err != nil {
				t.Fatal(err)
			}
		}
		if got := cacheStats(t, s); got != (memory.CacheStats{Hits: 3, Misses: 4, Size: 2, Capacity: 2}) {
			t.Errorf("after evicting: %+v", got)
		}
	})
}

func TestCacheDisabled(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		m := newMonitor()
		s := impl.open(t, memory.Options{CacheSize: -1, Monitor: m})
		e := mustStore(t, s, memory.NewEntry{Content: "x"})
		for range 3 {
			if _, err := s.Get(bg, e.ID); err != nil {
				t.Fatal(err)
			}
		}
		if snap := m.Sample(bg); snap.CacheHits+snap.CacheMisses != 0 {
			t.Errorf("disabled cache reported %d hits and %d misses", snap.CacheHits, snap.CacheMisses)
		}
		if got := cacheStats(t, s); got != (memory.CacheStats{}) {
			t.Errorf("Stats.Cache = %+v, want zero", got)
		}
	})
}
