package memory_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/mcp-pba-tunnel/pbatunnel/memory"
)

// Many goroutines using one store at once: every call either works or
// fails with an expected error, and the counts add up. Run under -race.
func TestConcurrentUse(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		m := newMonitor()
		s := impl.open(t, memory.Options{Monitor: m, CacheSize: 16})
		seed := mustStore(t, s, memory.NewEntry{Content: "seed entry shared by all"})
		const goroutines, each = 8, 10
		var wg sync.WaitGroup
		errs := make(chan error, goroutines*each)
		for g := range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				conv := fmt.Sprint("conv", g)
				for i := range each {
					e, err := s.Store(bg, memory.NewEntry{Content: fmt.Sprintf("goroutine %d item %d", g, i), ConversationID: conv})
					if err != nil {
						errs <- err
						continue
					}
					steps := []error{
						func() error { _, err := s.Get(bg, e.ID); return err }(),
						func() error { _, err := s.Get(bg, seed.ID); return err }(),
						func() error {
							_, err := s.Update(bg, e.ID, memory.Patch{Importance: ptr(float64(i%10) / 10)})
							return err
						}(),
						func() error {
							_, err := s.Relate(bg, memory.NewRelationship{SourceID: seed.ID, TargetID: e.ID, Type: "fan"})
							return err
						}(),
						func() error { _, err := s.Search(bg, memory.SearchQuery{Text: "goroutine item", Limit: 5}); return err }(),
						func() error {
							_, err := s.Retrieve(bg, memory.Query{Filter: memory.Filter{ConversationID: conv}, Limit: 5})
							return err
						}(),
						func() error { _, err := s.Context(bg, e.ID, 1); return err }(),
					}
					if i%5 == 4 {
						steps = append(steps, s.Delete(bg, e.ID))
					}
					errs <- errors.Join(steps...)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		wantEntries := 1 + goroutines*each*4/5
		if n, err := s.EntryCount(bg); err != nil || n != int64(wantEntries) {
			t.Errorf("EntryCount = %d, %v; want %d", n, err, wantEntries)
		}
		if n, err := s.RelationshipCount(bg); err != nil || n != int64(wantEntries-1) {
			t.Errorf("RelationshipCount = %d, %v; want %d", n, err, wantEntries-1)
		}
		if snap := m.Sample(bg); snap.Queries.Errors != 0 {
			t.Errorf("%d queries failed", snap.Queries.Errors)
		}
	})
}
