package memory

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"modernc.org/sqlite"
)

// queryer is what a statement runs on: the pool, a transaction or a
// dedicated connection.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Every statement the store runs goes through exec, query or queryRow, so
// that the Observer sees each one with its duration and outcome; the
// exceptions are the gauges' reads (see counter) and Ping.

func (s *SQLite) observe(start time.Time, err error) {
	if s.mon == nil {
		return
	}
	if errors.Is(err, sql.ErrNoRows) {
		err = nil // finding nothing is an answer, not a failed query
	}
	s.mon.ObserveQuery(time.Since(start), err)
}

func (s *SQLite) exec(ctx context.Context, q queryer, query string, args ...any) (sql.Result, error) {
	start := time.Now()
	var res sql.Result
	st, err := s.stmts.get(ctx, q, query)
	if err == nil {
		if st != nil {
			res, err = st.ExecContext(ctx, args...)
		} else {
			res, err = q.ExecContext(ctx, query, args...)
		}
	}
	s.observe(start, err)
	return res, err
}

// query runs a query and calls scan for each row. The time observed runs
// until the last row is read: SQLite does most of a query's work while the
// rows are stepped through, not when the statement starts.
func (s *SQLite) query(ctx context.Context, q queryer, query string, args []any, scan func(rowScanner) error) (err error) {
	start := time.Now()
	defer func() { s.observe(start, err) }()
	st, err := s.stmts.get(ctx, q, query)
	if err != nil {
		return err
	}
	var rows *sql.Rows
	if st != nil {
		rows, err = st.QueryContext(ctx, args...)
	} else {
		rows, err = q.QueryContext(ctx, query, args...)
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

// queryRow runs a query expected to return one row and scans it into dest.
// It returns sql.ErrNoRows when there is none.
func (s *SQLite) queryRow(ctx context.Context, q queryer, query string, args []any, dest ...any) error {
	found := false
	err := s.query(ctx, q, query, args, func(rows rowScanner) error {
		if found {
			return nil
		}
		found = true
		return rows.Scan(dest...)
	})
	if err == nil && !found {
		err = sql.ErrNoRows
	}
	return err
}

// writeTx is one write transaction and what it changed, so that the cache
// can forget those entries once it commits.
type writeTx struct {
	tx *sql.Tx
	// touched are the cache keys (entry ids, graphKey of entity names)
	// whose cached copies are stale after the commit.
	touched []string
	// genBefore and genAfter are store_stats.changes at the start and at
	// the end of the transaction (read only when there is a cache).
	genBefore, genAfter int64
}

func (w *writeTx) touch(ids ...string) { w.touched = append(w.touched, ids...) }

// write runs fn in a write transaction and commits it.
//
// Writers of this process queue on writeSem rather than in SQLite's busy
// handler, which polls with sleeps of up to 100 ms. Across processes, the
// DSN's _txlock=immediate makes BEGIN take the write lock up front, so two
// writers never both hold a read snapshot they then try to upgrade — the
// deadlock SQLite answers with SQLITE_BUSY at once, whatever the timeout;
// a writer waits for the lock at BEGIN, under busy_timeout. SQLITE_BUSY
// that still comes back early (a WAL recovery in progress, say) is retried
// with backoff until BusyTimeout has passed since the first attempt. fn
// may therefore run more than once: it must start from scratch each time.
func (s *SQLite) write(ctx context.Context, fn func(w *writeTx) error) error {
	select {
	case s.writeSem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.writeSem }()
	// Then among processes (see writeTurns).
	defer s.turns.acquire(ctx, s.opts.BusyTimeout)()

	return retryWrite(ctx, s.opts.BusyTimeout, isBusy, "while the database was locked", func() error {
		w, err := s.writeOnce(ctx, fn)
		if err == nil {
			s.cache.committed(w.touched, w.genBefore, w.genAfter)
		}
		return err
	})
}

func (s *SQLite) writeOnce(ctx context.Context, fn func(w *writeTx) error) (*writeTx, error) {
	start := time.Now()
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE, from the DSN
	s.observe(start, err)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() // a no-op after Commit
	w := &writeTx{tx: tx}
	// The change counter before and after this transaction's own writes
	// (see entryCache): while it holds the write lock nobody else can move
	// it.
	if s.cache != nil {
		if err := s.queryRow(ctx, tx, `SELECT changes FROM store_stats`, nil, &w.genBefore); err != nil {
			return nil, err
		}
	}
	if err := fn(w); err != nil {
		return nil, err
	}
	if s.cache != nil {
		if err := s.queryRow(ctx, tx, `SELECT changes FROM store_stats`, nil, &w.genAfter); err != nil {
			return nil, err
		}
	}
	start = time.Now()
	err = tx.Commit()
	s.observe(start, err)
	if err != nil {
		return nil, err
	}
	return w, nil
}

// isBusy reports whether err is SQLite saying the database is locked.
func isBusy(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	const sqliteBusy, sqliteLocked = 5, 6 // primary result codes
	switch se.Code() & 0xff {
	case sqliteBusy, sqliteLocked:
		return true
	}
	return false
}

// readTx runs fn in a read transaction, so that its queries see one
// snapshot of the database.
func (s *SQLite) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	start := time.Now()
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}) // a plain BEGIN: no write lock
	s.observe(start, err)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	start = time.Now()
	err = tx.Commit()
	s.observe(start, err)
	return err
}
