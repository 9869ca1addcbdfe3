package memory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"
)

// Stats describe the store.
type Stats struct {
	// Entries and Relationships are the rows stored, counted by triggers;
	// Entries includes expired entries the sweeper has not deleted yet.
	Entries       int `json:"entries"`
	Relationships int `json:"relationships"`
	// GraphEntities and GraphRelations are the knowledge graph's.
	GraphEntities  int `json:"graph_entities"`
	GraphRelations int `json:"graph_relations"`
	// Conversations is the number of distinct non-empty conversation ids.
	Conversations int            `json:"conversations"`
	ByContextType map[string]int `json:"by_context_type"`
	// ExpiredSwept counts the expired entries the sweepers of every process
	// have deleted from this file.
	ExpiredSwept int64 `json:"expired_swept"`
	// DBBytes is the size of the database and of its write-ahead log.
	DBBytes int64      `json:"db_bytes"`
	Cache   CacheStats `json:"cache"` // this Store's cache
}

// Stats returns figures about the store. It counts conversations and
// context types, which reads an index through: not for every request.
func (s *SQLite) Stats(ctx context.Context) (Stats, error) {
	if err := s.checkOpen(); err != nil {
		return Stats{}, err
	}
	st := Stats{ByContextType: map[string]int{}, Cache: s.cache.stats()}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		err := s.queryRow(ctx, tx, `SELECT entries, relationships, graph_entities, graph_relations, expired_swept FROM store_stats`, nil,
			&st.Entries, &st.Relationships, &st.GraphEntities, &st.GraphRelations, &st.ExpiredSwept)
		if err != nil {
			return err
		}
		err = s.queryRow(ctx, tx, `SELECT count(DISTINCT conversation_id) FROM entries WHERE conversation_id <> ''`, nil,
			&st.Conversations)
		if err != nil {
			return err
		}
		err = s.query(ctx, tx, `SELECT context_type, count(*) FROM entries GROUP BY context_type`, nil,
			func(rows rowScanner) error {
				var t string
				var n int
				err := rows.Scan(&t, &n)
				st.ByContextType[t] = n
				return err
			})
		if err != nil {
			return err
		}
		var pages, pageSize int64
		if err := s.queryRow(ctx, tx, `PRAGMA page_count`, nil, &pages); err != nil {
			return err
		}
		if err := s.queryRow(ctx, tx, `PRAGMA page_size`, nil, &pageSize); err != nil {
			return err
		}
		st.DBBytes = pages * pageSize
		return nil
	})
	if err != nil {
		return Stats{}, fmt.Errorf("reading store stats: %w", err)
	}
	if fi, err := os.Stat(s.path + "-wal"); err == nil {
		st.DBBytes += fi.Size()
	}
	return st, nil
}

// EntryCount returns the number of entries stored, expired ones not yet
// swept included, plus the knowledge graph's entities, from counters the
// triggers keep: as cheap at a million entries as at ten.
func (s *SQLite) EntryCount(ctx context.Context) (int64, error) {
	return s.counter(ctx, "entries + graph_entities")
}

// RelationshipCount returns the number of relationships stored plus the
// knowledge graph's relations, from counters the triggers keep.
func (s *SQLite) RelationshipCount(ctx context.Context) (int64, error) {
	return s.counter(ctx, "relationships + graph_relations")
}

func (s *SQLite) counter(ctx context.Context, column string) (int64, error) {
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	var n int64
	// column is one of two constant expressions, never input. This read
	// is not shown to the Observer: the monitor itself makes it, once per
	// sample for each gauge (see Gauge), and counting it would make an
	// idle store look busy — an average query time and query counts with
	// no query from any client.
	if err := s.db.QueryRowContext(ctx, `SELECT `+column+` FROM store_stats`).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting %s: %w", column, err)
	}
	return n, nil
}

// gaugeTimeout bounds a gauge read: the sampler must not hang on a
// database locked by a stuck writer.
const gaugeTimeout = 2 * time.Second

// Gauge turns one of a store's counts, EntryCount or RelationshipCount,
// into the function a monitor's gauge reads once per sample
// ((*monitor.Monitor).RegisterGauge). Each read has its own timeout; once
// the store is closed it fails with "the memory store NAME is closed",
// the reason the gauge then shows instead of a figure. The caller
// registers the gauges, not the store: they belong to whoever puts the
// store and the monitor together, and are written once for every
// implementation of Store.
func Gauge(name string, count func(context.Context) (int64, error)) func() (float64, error) {
	return func() (float64, error) {
		ctx, cancel := context.WithTimeout(context.Background(), gaugeTimeout)
		defer cancel()
		n, err := count(ctx)
		if errors.Is(err, ErrClosed) {
			return 0, fmt.Errorf("the memory store %s is closed", name)
		}
		return float64(n), err
	}
}
