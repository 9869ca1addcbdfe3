package memory_test

import (
	"context"
	"testing"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
	"github.com/mcp-pba-tunnel/pbatunnel/memory"
)

// A backend is one implementation of memory.Store. The tests of what a
// store does, as its users see it, run once per backend through
// forEachBackend; a new implementation is one more entry in backends. The
// tests of one implementation's own machinery (SQLite's file, locks,
// migrations, statement cache, other processes) call it directly.
type backend struct {
	name string
	// open opens a new, empty store with opts and closes it when the test
	// ends. opts.Path is the SQLite file; a backend that keeps its data
	// elsewhere ignores it.
	open func(tb testing.TB, opts memory.Options) memory.Store
	// sweep deletes the expired entries of s now, as the backend's own
	// upkeep does later, and says how many it deleted.
	sweep func(ctx context.Context, s memory.Store) (int, error)
}

var backends = []backend{
	{
		name: "sqlite",
		open: func(tb testing.TB, opts memory.Options) memory.Store { return memory.MustOpenOptions(tb, opts) },
		sweep: func(ctx context.Context, s memory.Store) (int, error) {
			return s.(*memory.SQLite).Sweep(ctx)
		},
	},
	{
		name: "postgres",
		open: func(tb testing.TB, opts memory.Options) memory.Store {
			opts.URL = testenv.RequirePostgres(tb).Database(tb)
			return memory.MustOpenPostgres(tb, opts)
		},
		sweep: func(ctx context.Context, s memory.Store) (int, error) {
			return s.(*memory.Postgres).Sweep(ctx)
		},
	},
}

// forEachBackend runs test once for each backend, as a subtest named after
// it.
func forEachBackend(t *testing.T, test func(t *testing.T, impl backend)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { test(t, b) })
	}
}
