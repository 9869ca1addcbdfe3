package memory_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-pba-tunnel/pbatunnel/memory"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
)

// registerGauges makes the store's counts the monitor's gauges, as serve
// does.
func registerGauges(tb testing.TB, m *monitor.Monitor, s memory.Store, name string) {
	tb.Helper()
	if err := m.RegisterGauge(monitor.GaugeMemoryEntries, memory.Gauge(name, s.EntryCount)); err != nil {
		tb.Fatal(err)
	}
	if err := m.RegisterGauge(monitor.GaugeRelationships, memory.Gauge(name, s.RelationshipCount)); err != nil {
		tb.Fatal(err)
	}
}

func TestGauges(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		m := newMonitor()
		s := impl.open(t, memory.Options{Monitor: m})
		registerGauges(t, m, s, "under-test")
		before := m.Sample(bg)
		if r := before.Gauge(monitor.GaugeMemoryEntries); !r.OK || r.Value != 0 {
			t.Errorf("entries gauge on an empty store = %+v, want 0", r)
		}
		a := mustStore(t, s, memory.NewEntry{Content: "a"})
		b := mustStore(t, s, memory.NewEntry{Content: "b"})
		c := mustStore(t, s, memory.NewEntry{Content: "c"})
		mustRelate(t, s, a, b, "x")
		mustRelate(t, s, b, c, "x")
		// The knowledge graph's entities and relations count too.
		mustCreateEntities(t, s, ent("Ada", "person"), ent("Engine", "machine"))
		if _, err := s.CreateRelations(bg, []memory.Relation{rel("Ada", "Engine", "programmed")}); err != nil {
			t.Fatal(err)
		}

		snap := m.Sample(bg)
		if r := snap.Gauge(monitor.GaugeMemoryEntries); r != metric.Measured(5) {
			t.Errorf("entries gauge = %+v, want 5", r)
		}
		if r := snap.Gauge(monitor.GaugeRelationships); r != metric.Measured(3) {
			t.Errorf("relationships gauge = %+v, want 3", r)
		}
		if snap.Queries.Count <= before.Queries.Count || snap.Queries.Errors != 0 {
			t.Errorf("queries observed: %d (before %d), %d errors", snap.Queries.Count, before.Queries.Count, snap.Queries.Errors)
		}

		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		snap = m.Sample(bg)
		if r := snap.Gauge(monitor.GaugeMemoryEntries); r.OK || !strings.Contains(r.Reason, "the memory store under-test is closed") {
			t.Errorf("entries gauge after Close = %+v, want unavailable because closed", r)
		}
		if _, err := s.Get(bg, a.ID); err != memory.ErrClosed {
			t.Errorf("Get after Close: %v, want ErrClosed", err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})
}

// Writes from another store on the file count too: the counts are kept by
// triggers in the database, not by the store that registered the gauges.
func TestGaugesCountOtherWriters(t *testing.T) {
	m := newMonitor()
	path := filepath.Join(t.TempDir(), "g.db")
	s := memory.MustOpenOptions(t, memory.Options{Path: path, Monitor: m})
	registerGauges(t, m, s, path)
	other := memory.MustOpenOptions(t, memory.Options{Path: path})
	d := mustStore(t, other, memory.NewEntry{Content: "d"})
	mustRelate(t, other, d, mustStore(t, other, memory.NewEntry{Content: "e"}), "x")
	snap := m.Sample(bg)
	if r := snap.Gauge(monitor.GaugeMemoryEntries); r != metric.Measured(2) {
		t.Errorf("entries gauge = %+v, want 2", r)
	}
	if r := snap.Gauge(monitor.GaugeRelationships); r != metric.Measured(1) {
		t.Errorf("relationships gauge = %+v, want 1", r)
	}
}

func TestQueryErrorsObserved(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		m := newMonitor()
		s := impl.open(t, memory.Options{Monitor: m})
		e := mustStore(t, s, memory.NewEntry{Content: "x"})
		ctx, cancel := context.WithCancel(bg)
		cancel()
		if _, err := s.Retrieve(ctx, memory.Query{}); err == nil {
			t.Fatal("Retrieve with a cancelled context worked")
		}
		if snap := m.Sample(bg); snap.Queries.Errors == 0 {
			t.Errorf("a failed query was not counted as failed")
		}
		// Not found is an answer, not a failure.
		before := m.Sample(bg).Queries.Errors
		s.Delete(bg, e.ID)
		s.Get(bg, e.ID)
		if after := m.Sample(bg).Queries.Errors; after != before {
			t.Errorf("not-found lookups counted as %d failed queries", after-before)
		}
	})
}

func TestStats(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		s := impl.open(t, memory.Options{})
		a := mustStore(t, s, memory.NewEntry{Content: "a", ConversationID: "c1", ContextType: "code"})
		b := mustStore(t, s, memory.NewEntry{Content: "b", ConversationID: "c2"})
		mustStore(t, s, memory.NewEntry{Content: "c", ConversationID: "c1"})
		mustStore(t, s, memory.NewEntry{Content: "d"})
		mustRelate(t, s, a, b, "x")
		s.Get(bg, a.ID)
		s.Get(bg, a.ID)
		st, err := s.Stats(bg)
		if err != nil {
			t.Fatal(err)
		}
		if st.DBBytes < 4096 {
			t.Errorf("DBBytes = %d", st.DBBytes)
		}
		st.DBBytes = 0
		want := memory.Stats{
			Entries: 4, Relationships: 1, Conversations: 2,
			ByContextType: map[string]int{"code": 1, "general": 3},
			Cache:         memory.CacheStats{Hits: 1, Misses: 1, Size: 1, Capacity: memory.DefaultCacheSize},
		}
		if d := cmp.Diff(want, st); d != "" {
			t.Errorf("Stats (-want +got):\n%s", d)
		}
	})
}

// TestGaugeReadsAreNotStoreQueries: the monitor reading the counts on every
// sample must not make an idle store look busy.
func TestGaugeReadsAreNotStoreQueries(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		m := newMonitor()
		s := impl.open(t, memory.Options{Monitor: m})
		registerGauges(t, m, s, "idle")
		before := m.Sample(bg).Queries.Count
		for range 5 {
			if g := m.Sample(bg).Gauge(monitor.GaugeMemoryEntries); !g.OK || g.Value != 0 {
				t.Fatalf("memory_entries_count = %v", g)
			}
		}
		if after := m.Sample(bg).Queries.Count; after != before {
			t.Errorf("six samples of an idle store counted %d queries", after-before)
		}
	})
}
