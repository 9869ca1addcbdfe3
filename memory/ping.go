package memory

import (
	"context"
	"fmt"
)

// Ping reports whether the store answers: it reads the one-row counters
// table, which proves the file open, readable and of this schema. It is
// meant for readiness probes, which ask every few seconds: it costs one
// indexed read, takes no write lock (under WAL a writer does not block
// it), and is not shown to the Observer, so that probing an idle store
// does not make it look busy. It returns ErrClosed after Close, and ctx's
// error when ctx ends first.
func (s *SQLite) Ping(ctx context.Context) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	var id int
	if err := s.db.QueryRowContext(ctx, `SELECT id FROM store_stats`).Scan(&id); err != nil {
		return fmt.Errorf("reading the store: %w", err)
	}
	return nil
}
