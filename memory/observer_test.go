package memory_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/memory"
)

// recorder is an Observer that is not a monitor: what it counts is all a
// store reports.
type recorder struct {
	mu              sync.Mutex
	queries, failed int
	hits, misses    int
	negative        bool // a duration below zero was observed
}

func (r *recorder) ObserveQuery(d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.queries++
	if err != nil {
		r.failed++
	}
	if d < 0 {
		r.negative = true
	}
}

func (r *recorder) RecordCacheLookup(hit bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if hit {
		r.hits++
	} else {
		r.misses++
	}
}

func (r *recorder) counts() (queries, failed, hits, misses int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.queries, r.failed, r.hits, r.misses
}

// Any Observer will do: the store is told of its statements and cache
// lookups through the two methods alone, a read that finds nothing is not
// a failure, and one that fails is.
func TestObserver(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		r := &recorder{}
		s := impl.open(t, memory.Options{Monitor: r})
		e := mustStore(t, s, memory.NewEntry{Content: "x"})
		q0, _, _, _ := r.counts()
		if q0 == 0 {
			t.Fatal("storing an entry was not observed")
		}
		for range 2 {
			if _, err := s.Get(bg, e.ID); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Get(bg, "mem_none"); !isNotFound(err) {
			t.Fatalf("Get of a missing id: %v", err)
		}
		queries, failed, hits, misses := r.counts()
		if hits != 1 || misses != 2 {
			t.Errorf("%d hits, %d misses; want 1 (the second Get), 2 (the first, and the missing id)", hits, misses)
		}
		if queries <= q0 || failed != 0 {
			t.Errorf("%d queries (%d after the store), %d failed; want more, none failed", queries, q0, failed)
		}

		ctx, cancel := context.WithCancel(bg)
		cancel()
		if _, err := s.Retrieve(ctx, memory.Query{}); err == nil {
			t.Fatal("Retrieve with a cancelled context worked")
		}
		if _, failed, _, _ := r.counts(); failed == 0 {
			t.Error("a failed query was not observed as failed")
		}
		if r.negative {
			t.Error("a negative duration was observed")
		}
	})
}
