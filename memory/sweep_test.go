package memory_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/memory"
)

// An expired entry disappears from every read at once, and the sweep
// deletes it later.
func TestTTL(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		clock := memory.NewFakeClock()
		s := impl.open(t, memory.WithClock(memory.Options{}, clock.Now))
		short := mustStore(t, s, memory.NewEntry{Content: "ephemeral fact", ConversationID: "c", TTL: 10 * time.Second})
		long := mustStore(t, s, memory.NewEntry{Content: "durable fact", ConversationID: "c", TTL: time.Hour})
		forever := mustStore(t, s, memory.NewEntry{Content: "eternal fact", ConversationID: "c"})
		mustRelate(t, s, short, forever, "x")
		if _, err := s.Get(bg, short.ID); err != nil { // cached
			t.Fatal(err)
		}

		visible := func() []string {
			t.Helper()
			page, err := s.Retrieve(bg, memory.Query{Filter: memory.Filter{ConversationID: "c"}})
			if err != nil {
				t.Fatal(err)
			}
			return entryIDs(page.Entries)
		}
		clock.Advance(9 * time.Second)
		if d := sameSet(idsOf(short, long, forever), visible()); d != "" {
			t.Errorf("before expiry (-want +got):\n%s", d)
		}
		clock.Advance(time.Second) // exactly at expiry: gone
		if d := sameSet(idsOf(long, forever), visible()); d != "" {
			t.Errorf("after expiry (-want +got):\n%s", d)
		}
		_, err := s.Get(bg, short.ID)
		checkErr(t, err, memory.ErrNotFound, short.ID)
		page, err := s.Search(bg, memory.SearchQuery{Text: "fact"})
		if err != nil {
			t.Fatal(err)
		}
		if d := sameSet(idsOf(long, forever), hitIDs(page.Hits)); d != "" {
			t.Errorf("search after expiry (-want +got):\n%s", d)
		}
		res, err := s.Context(bg, forever.ID, 1)
		if err != nil || len(res.Related) != 0 {
			t.Errorf("context shows %d related, %v; want the expired one hidden", len(res.Related), err)
		}
		_, err = s.Update(bg, short.ID, memory.Patch{Content: ptr("revive")})
		checkErr(t, err, memory.ErrNotFound, short.ID)
		checkErr(t, s.Delete(bg, short.ID), memory.ErrNotFound, short.ID)

		// Still stored until swept.
		if n, _ := s.EntryCount(bg); n != 3 {
			t.Errorf("EntryCount before the sweep = %d, want 3", n)
		}
		n, err := impl.sweep(bg, s)
		if err != nil || n != 1 {
			t.Fatalf("Sweep = %d, %v; want 1", n, err)
		}
		if n, _ := s.EntryCount(bg); n != 2 {
			t.Errorf("EntryCount after the sweep = %d, want 2", n)
		}
		if n, _ := s.RelationshipCount(bg); n != 0 {
			t.Errorf("RelationshipCount after the sweep = %d, want 0", n)
		}
		st, err := s.Stats(bg)
		if err != nil || st.ExpiredSwept != 1 {
			t.Errorf("Stats.ExpiredSwept = %d, %v; want 1", st.ExpiredSwept, err)
		}
		if n, err := impl.sweep(bg, s); err != nil || n != 0 {
			t.Errorf("second Sweep = %d, %v; want 0", n, err)
		}

		// Update can end and restart a life.
		if _, err := s.Update(bg, long.ID, memory.Patch{TTL: ptr(time.Duration(0))}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(2 * time.Hour)
		if _, err := s.Get(bg, long.ID); err != nil {
			t.Errorf("entry whose TTL was removed: %v", err)
		}
		if _, err := s.Update(bg, forever.ID, memory.Patch{TTL: ptr(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
		if _, err := s.Get(bg, forever.ID); !isNotFound(err) {
			t.Errorf("entry given a TTL by Update: Get error %v after it, want not found", err)
		}
	})
}

// The sweeper goroutine sweeps on its own, in batches.
func TestSweeper(t *testing.T) {
	clock := memory.NewFakeClock()
	path := filepath.Join(t.TempDir(), "sweep.db")
	// Fill the file first, without a sweeper racing the writes for the
	// lock every millisecond.
	fill := memory.MustOpenOptions(t, memory.WithClock(memory.Options{Path: path}, clock.Now))
	const n = 600 // more than one batch
	for range n {
		mustStore(t, fill, memory.NewEntry{Content: "x", TTL: time.Second})
	}
	keep := mustStore(t, fill, memory.NewEntry{Content: "keep"})
	if err := fill.Close(); err != nil {
		t.Fatal(err)
	}

	swept := make(chan int, 100)
	opts := memory.WithClock(memory.Options{Path: path, SweepInterval: time.Millisecond}, clock.Now)
	opts = memory.WithSweepHook(opts, func(n int, err error) {
		if err != nil {
			t.Errorf("sweep: %v", err)
		}
		if n > 0 {
			swept <- n
		}
	})
	s := memory.MustOpenOptions(t, opts)
	clock.Advance(time.Second)
	total := 0
	timeout := time.After(30 * time.Second)
	for total < n {
		select {
		case k := <-swept:
			total += k
		case <-timeout:
			t.Fatalf("swept %d of %d in 30s", total, n)
		}
	}
	if total != n {
		t.Errorf("swept %d, want %d", total, n)
	}
	if c, _ := s.EntryCount(bg); c != 1 {
		t.Errorf("EntryCount = %d, want 1", c)
	}
	if _, err := s.Get(bg, keep.ID); err != nil {
		t.Error(err)
	}
}
