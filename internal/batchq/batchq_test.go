package batchq

import (
	"sync"
	"testing"
)

// TestBounds: items past either bound, or after Close, are refused; the
// taker is kicked once at the mark; Take takes all, in order.
func TestBounds(t *testing.T) {
	for _, c := range []struct {
		name                   string
		items, bytes, wakeN, w int
		puts                   []int // sizes
		accepted               int
		kicked                 bool
	}{
		{"by count", 3, 0, 2, 0, []int{1, 1, 1, 1}, 3, true},
		{"by bytes", 10, 10, 10, 0, []int{4, 4, 4}, 2, false},
		{"kicked by bytes", 10, 100, 10, 8, []int{4, 4}, 2, true},
		{"below the mark", 10, 0, 5, 0, []int{1, 1}, 2, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := New[int](c.items, c.bytes, c.wakeN, c.w)
			n := 0
			for i, size := range c.puts {
				if q.Put(i, size) {
					n++
				}
			}
			kicked := false
			select {
			case <-q.Kick():
				kicked = true
			default:
			}
			got := q.Take(nil)
			if n != c.accepted || len(got) != c.accepted || kicked != c.kicked {
				t.Errorf("accepted %d, took %v, kicked %v; want %d accepted, kicked %v", n, got, kicked, c.accepted, c.kicked)
			}
			for i, v := range got {
				if v != i {
					t.Errorf("took %v: out of order", got)
				}
			}
			if !q.Put(9, 1) || len(q.Take(got)) != 1 {
				t.Error("the queue is not usable again after Take")
			}
			q.Close()
			if q.Put(1, 1) || !q.Full() {
				t.Error("a Put after Close was taken")
			}
		})
	}
}

// TestConcurrent: every item put is taken once, whatever the interleaving.
func TestConcurrent(t *testing.T) {
	q := New[int](1<<20, 0, 64, 0)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				q.Put(w*1000+i, 1)
			}
		})
	}
	seen := map[int]bool{}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var batch []int
	for finished := false; !finished; {
		select {
		case <-q.Kick():
		case <-done:
			finished = true
		}
		batch = q.Take(batch)
		for _, v := range batch {
			if seen[v] {
				t.Fatalf("%d taken twice", v)
			}
			seen[v] = true
		}
	}
	for _, v := range q.Take(batch) {
		seen[v] = true
	}
	if len(seen) != 8000 {
		t.Errorf("%d items taken, want 8000", len(seen))
	}
}
