package memory

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// MustOpen opens a store on a new file in a temporary directory, with
// default options, and closes it when the test ends.
func MustOpen(tb testing.TB) *SQLite {
	tb.Helper()
	return MustOpenOptions(tb, Options{})
}

// MustOpenOptions is MustOpen with options; an empty Path means a new file
// in a temporary directory.
func MustOpenOptions(tb testing.TB, opts Options) *SQLite {
	tb.Helper()
	if opts.Path == "" {
		opts.Path = filepath.Join(tb.TempDir(), "memory.db")
	}
	s, err := OpenSQLite(context.Background(), opts)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

// NewFakeClock returns a settable clock at a fixed time with milliseconds
// in it.
func NewFakeClock() *testenv.Clock {
	return testenv.NewClockAt(time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.UTC))
}

// WithClock returns opts with the store's clock replaced.
func WithClock(opts Options, now func() time.Time) Options {
	opts.now = now
	return opts
}

// MustOpenPostgres opens a Postgres store with opts (opts.URL required)
// and closes it when the test ends.
func MustOpenPostgres(tb testing.TB, opts Options) *Postgres {
	tb.Helper()
	s, err := OpenPostgres(context.Background(), opts)
	if err != nil {
		tb.Fatalf("OpenPostgres: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

// WithSweepHook returns opts with fn called after every sweep of the
// sweeper goroutine.
func WithSweepHook(opts Options, fn func(n int, err error)) Options {
	opts.swept = fn
	return opts
}

// Sweep runs one sweep now.
func (s *SQLite) Sweep(ctx context.Context) (int, error) { return s.sweep(ctx) }

// SetRankBudget changes the search rank budget for the rest of the test.
// Tests that call it must not run in parallel.
func SetRankBudget(tb testing.TB, n int) {
	old := rankBudget
	rankBudget = n
	tb.Cleanup(func() { rankBudget = old })
}

// SetRecencyScan changes the matches a page in recency order looks at.
func SetRecencyScan(tb testing.TB, n int) {
	old := recencyScan
	recencyScan = n
	tb.Cleanup(func() { recencyScan = old })
}

// DSN exposes the data source name built for a path.
func DSN(path string, busy time.Duration) string { return dsn(path, busy) }

// BulkStore validates and stores many entries in one transaction, created
// at the times at returns: for building large fixtures quickly.
func (s *SQLite) BulkStore(ctx context.Context, es []NewEntry, at func(i int) time.Time) error {
	return s.write(ctx, func(w *writeTx) error {
		stmt, err := w.tx.PrepareContext(ctx, `INSERT INTO entries
			(id, conversation_id, session_id, content, context_type, importance, tags, metadata, created_at, updated_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, ne := range es {
			e, err := ne.validate()
			if err != nil {
				return err
			}
			tags, meta, err := encodeTagsMeta(e.Tags, ne.Metadata)
			if err != nil {
				return err
			}
			t := at(i)
			ms := t.UnixMilli()
			if _, err := stmt.ExecContext(ctx, s.ids.next(entryPrefix, t), e.ConversationID, e.SessionID, e.Content,
				e.ContextType, e.Importance, tags, meta, ms, ms); err != nil {
				return err
			}
		}
		return nil
	})
}

// Checkpoint copies the write-ahead log into the database file and empties
// it, so that the file alone holds everything.
func (s *SQLite) Checkpoint(ctx context.Context) error {
	_, err := s.exec(ctx, s.db, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

// RankCorpus is a graph whose entities differ in every figure the search
// ranking counts.
func RankCorpus() []Entity { return rankCorpus() }

// SearchNodesScan is SearchNodes checking terms of one or two characters on
// every entity, as it did before graph_short.
func (s *SQLite) SearchNodesScan(ctx context.Context, q NodeQuery) (GraphPage, error) {
	return searchNodes(ctx, scanShort{s}, q)
}
