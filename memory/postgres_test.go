package memory_test

import (
	"context"
	"sync"
	"testing"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
	"github.com/mcp-pba-tunnel/pbatunnel/memory"
)

// Servers starting together on an empty database migrate it once: the
// advisory lock makes the others wait, then find the schema current.
func TestPostgresMigratesOnceWhenOpenedTogether(t *testing.T) {
	url := testenv.RequirePostgres(t).Database(t)
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	stores := make([]*memory.Postgres, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = memory.OpenPostgres(context.Background(), memory.Options{URL: url})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("store %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	for _, s := range stores {
		if err := s.Ping(bg); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPostgresRefusesBadURL(t *testing.T) {
	for _, url := range []string{"", "memory.db", "mysql://x"} {
		if _, err := memory.OpenPostgres(bg, memory.Options{URL: url}); err == nil {
			t.Errorf("OpenPostgres(%q): no error", url)
		}
	}
}
