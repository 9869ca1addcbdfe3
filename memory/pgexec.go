package memory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pgQueryer is what a statement runs on: the pool or a transaction.
type pgQueryer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Every statement goes through exec, query or queryRow, so that the
// Observer sees each one with its duration and outcome; the exceptions are
// the gauges' reads (counter) and Ping, as in SQLite.

func (s *Postgres) observe(start time.Time, err error) {
	if s.mon == nil {
		return
	}
	if errors.Is(err, pgx.ErrNoRows) {
		err = nil
	}
	s.mon.ObserveQuery(time.Since(start), err)
}

func (s *Postgres) exec(ctx context.Context, q pgQueryer, query string, args ...any) (tag pgconn.CommandTag, err error) {
	start := time.Now()
	ctx, w := s.watch(ctx)
	defer func() { err = w.done(err) }()
	tag, err = q.Exec(ctx, query, args...)
	s.observe(start, err)
	return tag, err
}

// query runs a query and calls scan for each row; the time observed runs
// until the last row is read. A read on the pool that lost its
// connection before its first row runs again (see connLost).
func (s *Postgres) query(ctx context.Context, q pgQueryer, query string, args []any, scan func(rowScanner) error) error {
	scanned := false
	seen := func(rows rowScanner) error {
		scanned = true
		return scan(rows)
	}
	err := s.queryOnce(ctx, q, query, args, seen)
	if !scanned && s.reconnect(q, err) {
		err = s.queryOnce(ctx, q, query, args, seen)
	}
	return err
}

func (s *Postgres) queryOnce(ctx context.Context, q pgQueryer, query string, args []any, scan func(rowScanner) error) (err error) {
	start := time.Now()
	ctx, w := s.watch(ctx)
	defer func() { err = w.done(err) }()
	defer func() { s.observe(start, err) }()
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
		w.progress()
	}
	return rows.Err()
}

// A stallWatch ends a statement that the database leaves without an
// answer for BusyTimeout: its host or the network gone, the server
// stalled, a lock held by a session that does not let go. pgx then
// closes the connection, the pool makes a new one for the next call, and
// the call fails with an error that says so, instead of waiting for as
// long as TCP does (forever, for a server that stalls). Each row read
// restarts the wait, so that a long read that streams (an export) is
// never cut. A writer's wait for its turn (see write) is one statement,
// so it is bounded too, as SQLite's wait for the write lock is.
type stallWatch struct {
	timer   *time.Timer
	cancel  context.CancelCauseFunc
	ctx     context.Context
	timeout time.Duration
}

// errStalled is the cause of a statement's end by its stallWatch.
var errStalled = errors.New("no answer from the database")

// watch returns the context a statement runs in and its watch, whose
// done the caller must call with the statement's error.
func (s *Postgres) watch(ctx context.Context) (context.Context, *stallWatch) {
	ctx, cancel := context.WithCancelCause(ctx)
	w := &stallWatch{cancel: cancel, ctx: ctx, timeout: s.opts.BusyTimeout}
	w.timer = time.AfterFunc(w.timeout, func() { cancel(errStalled) })
	return ctx, w
}

func (w *stallWatch) progress() { w.timer.Reset(w.timeout) }

// done releases the watch and returns err, or, if the watch ended the
// statement, an error that says so.
func (w *stallWatch) done(err error) error {
	w.timer.Stop()
	stalled := err != nil && context.Cause(w.ctx) == errStalled
	w.cancel(nil)
	if stalled {
		return fmt.Errorf("%w in %v: %w", errStalled, w.timeout, context.DeadlineExceeded)
	}
	return err
}

// queryRow runs a query expected to return one row and scans it into
// dest; pgx.ErrNoRows when there is none.
func (s *Postgres) queryRow(ctx context.Context, q pgQueryer, query string, args []any, dest ...any) error {
	found := false
	err := s.query(ctx, q, query, args, func(rows rowScanner) error {
		if found {
			return nil
		}
		found = true
		return rows.Scan(dest...)
	})
	if err == nil && !found {
		err = pgx.ErrNoRows
	}
	return err
}

// pgWriteTx is one write transaction and what it changed (see writeTx).
type pgWriteTx struct {
	tx                  pgx.Tx
	touched             []string
	genBefore, genAfter int64
}

func (w *pgWriteTx) touch(ids ...string) { w.touched = append(w.touched, ids...) }

// write runs fn in a write transaction and commits it.
//
// The transaction first locks the one row of store_stats, which every
// write's triggers update anyway: writers of every process take turns on
// it, in the order they asked, so two writers never deadlock on locks
// taken in different orders, and the change counter read under the lock
// before and after fn is this transaction's alone (the cache depends on
// it). Writes to the store are small; a team's servers do not write fast
// enough for the one queue to matter (docs/SCALING.md). A serialization
// failure or deadlock that still comes back (from a statement outside
// this protocol, a DBA's say) is retried with backoff for BusyTimeout;
// fn may therefore run more than once.
func (s *Postgres) write(ctx context.Context, fn func(w *pgWriteTx) error) error {
	retryable := func(err error) bool { return isRetryable(err) || errors.As(err, new(lostBeforeCommit)) }
	return retryWrite(ctx, s.opts.BusyTimeout, retryable, "while retrying a write", func() error {
		w, err := s.writeOnce(ctx, fn)
		if err == nil {
			s.cache.committed(w.touched, w.genBefore, w.genAfter)
		}
		return err
	})
}

func (s *Postgres) writeOnce(ctx context.Context, fn func(w *pgWriteTx) error) (_ *pgWriteTx, err error) {
	committing := false
	defer func() {
		if err != nil && !committing && connLost(err) {
			s.pool.Reset()
			err = lostBeforeCommit{err}
		}
	}()
	start := time.Now()
	tx, err := s.begin(ctx, pgx.TxOptions{})
	s.observe(start, err)
	if err != nil {
		return nil, err
	}
	defer s.rollback(ctx, tx) // a no-op after Commit
	w := &pgWriteTx{tx: tx}
	if err := s.queryRow(ctx, tx, `SELECT changes FROM store_stats WHERE id = 1 FOR UPDATE`, nil, &w.genBefore); err != nil {
		return nil, err
	}
	if err := fn(w); err != nil {
		return nil, err
	}
	if err := s.queryRow(ctx, tx, `SELECT changes FROM store_stats WHERE id = 1`, nil, &w.genAfter); err != nil {
		return nil, err
	}
	start = time.Now()
	committing = true
	err = s.commit(ctx, tx)
	s.observe(start, err)
	if err != nil {
		return nil, err
	}
	return w, nil
}

// begin, commit and rollback are the transaction's statements, each
// watched as exec's are.
// A BEGIN that lost its connection runs again on a new one.
func (s *Postgres) begin(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error) {
	tx, err := s.beginOnce(ctx, opts)
	if s.reconnect(s.pool, err) {
		tx, err = s.beginOnce(ctx, opts)
	}
	return tx, err
}

func (s *Postgres) beginOnce(ctx context.Context, opts pgx.TxOptions) (tx pgx.Tx, err error) {
	wctx, w := s.watch(ctx)
	defer func() { err = w.done(err) }()
	return s.pool.BeginTx(wctx, opts)
}

func (s *Postgres) commit(ctx context.Context, tx pgx.Tx) (err error) {
	ctx, w := s.watch(ctx)
	defer func() { err = w.done(err) }()
	return tx.Commit(ctx)
}

// rollback ends tx if it is still open, even when ctx has ended: the
// connection then goes back to the pool clean.
func (s *Postgres) rollback(ctx context.Context, tx pgx.Tx) {
	ctx, w := s.watch(context.WithoutCancel(ctx))
	err := tx.Rollback(ctx)
	_ = w.done(err)
}

// isRetryable reports whether err is PostgreSQL saying the transaction
// lost a race it may win on a second try.
func isRetryable(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "40001", "40P01": // serialization_failure, deadlock_detected
		return true
	}
	return false
}

// readTx runs fn in a read-only transaction that sees one snapshot of the
// database (REPEATABLE READ: a read-only one never fails to serialize).
func (s *Postgres) readTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	start := time.Now()
	tx, err := s.begin(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	s.observe(start, err)
	if err != nil {
		return err
	}
	defer s.rollback(ctx, tx)
	if err := fn(tx); err != nil {
		return err
	}
	start = time.Now()
	err = s.commit(ctx, tx)
	s.observe(start, err)
	return err
}

// syncCache reads the change counter, drops the cache if a writer other
// than this store moved it, and returns the epoch a later put must
// present (see entryCache).
func (s *Postgres) syncCache(ctx context.Context) (uint64, error) {
	var gen int64
	if err := s.queryRow(ctx, s.pool, `SELECT changes FROM store_stats WHERE id = 1`, nil, &gen); err != nil {
		return 0, err
	}
	return s.cache.sawGenEpoch(gen), nil
}
