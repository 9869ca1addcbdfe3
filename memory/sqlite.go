package memory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// SQLite is the Store kept in one SQLite file: entries, relationships
// between them, the knowledge graph, full-text search, and a read cache.
// Several of them, in one process or in several, may use the same file at
// once. All methods are safe for concurrent use.
type SQLite struct {
	opts   Options
	path   string // absolute
	db     *sql.DB
	mon    Observer // nil: nobody is told
	now    func() time.Time
	cache  *entryCache // nil: disabled
	dvConn *sql.Conn   // the connection data_version is read on
	stmts  *stmtCache  // set once the schema is current
	turns  *writeTurns // nil: none (see turns.go)

	// writeSem queues this process's writers (see write).
	writeSem chan struct{}

	ids idSource

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
	stop      context.CancelFunc
	sweepDone chan struct{}
}

var _ Store = (*SQLite)(nil)

// OpenSQLite opens the store at opts.Path, creating the file and bringing
// its schema up to date as needed, and starts the sweeper of expired
// entries, which runs until Close or until ctx ends: pass a ctx that lives
// as long as the store, not one with the deadline of the opening alone.
func OpenSQLite(ctx context.Context, opts Options) (*SQLite, error) {
	if strings.TrimSpace(opts.Path) == "" {
		return nil, invalidf("opening store: path is required")
	}
	opts = opts.withDefaults()
	abs, err := filepath.Abs(opts.Path)
	if err != nil {
		return nil, fmt.Errorf("opening store: %w", err)
	}
	db, err := sql.Open("sqlite", dsn(abs, opts.BusyTimeout))
	if err != nil {
		return nil, fmt.Errorf("opening store: %w", err)
	}
	// Readers run in parallel under WAL; a few connections per core is
	// plenty, and each holds its own page cache. One more is kept by the
	// cache's data_version check.
	conns := max(4, runtime.GOMAXPROCS(0)) + 1
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)

	s := &SQLite{
		opts:      opts,
		path:      abs,
		db:        db,
		mon:       opts.Monitor,
		now:       opts.now,
		writeSem:  make(chan struct{}, 1),
		sweepDone: make(chan struct{}),
	}
	if err := s.open(ctx); err != nil {
		s.turns.close()
		if s.dvConn != nil {
			s.dvConn.Close()
		}
		db.Close()
		return nil, fmt.Errorf("opening store %s: %w", opts.Path, err)
	}

	sweepCtx, cancel := context.WithCancel(ctx)
	s.stop = cancel
	go s.sweepLoop(sweepCtx)
	return s, nil
}

func (s *SQLite) open(ctx context.Context) error {
	// Check the file is a database we can use before migrating: a
	// helpful error beats "file is not a database" halfway through.
	if err := s.db.PingContext(ctx); err != nil {
		return err
	}
	if err := s.migrate(ctx); err != nil {
		return err
	}
	// Only now: a statement prepared before a migration would be compiled
	// against the old schema, and the migrations' scripts, several
	// statements each, cannot be prepared as one.
	s.stmts = newStmtCache(s.db)
	turns, err := openWriteTurns(s.path)
	if err != nil {
		return err
	}
	s.turns = turns
	if s.opts.CacheSize > 0 {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			return err
		}
		s.dvConn = conn
		s.cache = newEntryCache(s.opts.CacheSize, conn, s.mon)
	}
	return nil
}

// dsn builds the driver's data source name for the file at path.
//
// The file: URI form is used so that a path containing '?' or '#' cannot be
// mistaken for parameters; the driver consumes the underscore parameters
// and SQLite ignores them. busy_timeout is applied first by the driver;
// then foreign keys (off by default in SQLite, and the cascades depend on
// them), WAL (readers never block the writer, and several processes can
// share the file), and synchronous=NORMAL, which in WAL mode loses no
// committed transaction when the process crashes and keeps a commit free
// of fsync (only a power loss can lose the last commits). temp_store keeps
// sorts in memory. _txlock=immediate makes every write transaction BEGIN
// IMMEDIATE (see write).
//
// The store never runs ANALYZE, nor PRAGMA optimize, which may: statistics
// taken while the file was new and empty made a 100 000-entry load take
// 6 minutes instead of 8 seconds in a test, SQLite planning for empty
// tables. The queries here are written so that the plans chosen without
// statistics are the right ones.
func dsn(path string, busy time.Duration) string {
	p := url.URL{Scheme: "file", Path: filepath.ToSlash(path)}
	q := []string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", busy.Milliseconds()),
		"_pragma=foreign_keys(1)",
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(NORMAL)",
		"_pragma=temp_store(MEMORY)",
		"_txlock=immediate",
	}
	// url.URL escapes '?', '#' and '%' in the path; SQLite decodes them.
	return "file:" + p.EscapedPath() + "?" + strings.Join(q, "&")
}

// Close stops the sweeper and closes the database. Gauges made with Gauge
// report the store as closed from then on. Close may be called more than
// once; later calls return the first call's result.
func (s *SQLite) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.stop()
		<-s.sweepDone
		var errs []error
		if s.stmts != nil {
			s.stmts.close()
		}
		errs = append(errs, s.turns.close())
		if s.dvConn != nil {
			errs = append(errs, s.dvConn.Close())
		}
		errs = append(errs, s.db.Close())
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("closing store: %w", err)
		}
	})
	return s.closeErr
}

// checkOpen returns ErrClosed after Close.
func (s *SQLite) checkOpen() error {
	if s.closed.Load() {
		return ErrClosed
	}
	return nil
}
