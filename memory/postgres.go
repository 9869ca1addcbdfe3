package memory

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Postgres is the Store kept in a PostgreSQL database, for several
// servers on several hosts sharing one store. It keeps the same data with
// the same semantics as SQLite, and passes the same tests (see
// forEachBackend in the tests); where PostgreSQL's own means differ
// (full-text ranking, for one) the method's comment says how.
//
// Writes of every process take one lock first, the row of store_stats,
// so that they never deadlock and the change counter the cache depends on
// moves once per transaction, as in SQLite (see pgWrite). The read cache
// checks that counter before it is trusted: a version check, one indexed
// read of one row, so a write by any process is seen by the next read.
type Postgres struct {
	opts  Options
	pool  *pgxpool.Pool
	mon   Observer // nil: nobody is told
	now   func() time.Time
	cache *entryCache // nil: disabled

	ids idSource

	closed    atomic.Bool
	closeOnce sync.Once
	stop      context.CancelFunc
	sweepDone chan struct{}
}

// IsPostgresURL reports whether s names a PostgreSQL database
// (postgres:// or postgresql://) rather than a SQLite file.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// OpenPostgres connects to the database at opts.URL, brings its schema up
// to date (one process at a time, under an advisory lock), and starts the
// sweeper of expired entries, which runs until Close or until ctx ends.
func OpenPostgres(ctx context.Context, opts Options) (*Postgres, error) {
	if !IsPostgresURL(opts.URL) {
		// Not quoted: what in it is a password cannot be told.
		return nil, invalidf("opening store: want a postgres:// or postgresql:// URL")
	}
	opts = opts.withDefaults()
	cfg, err := pgxpool.ParseConfig(opts.URL)
	if err != nil {
		return nil, invalidf("opening store: %v", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("opening store %s: %w", redactURL(opts.URL), err)
	}
	s := &Postgres{opts: opts, pool: pool, mon: opts.Monitor, now: opts.now, sweepDone: make(chan struct{})}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("opening store %s: %w", redactURL(opts.URL), err)
	}
	if opts.CacheSize > 0 {
		s.cache = newEntryCache(opts.CacheSize, nil, s.mon)
	}
	sweepCtx, cancel := context.WithCancel(ctx)
	s.stop = cancel
	go s.sweepLoop(sweepCtx)
	return s, nil
}

// redactURL is u without the passwords pgx would read from it (the user
// information's, and the password and sslpassword parameters), for
// messages. A u that does not parse is not shown at all.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(a URL that does not parse)"
	}
	if _, ok := p.User.Password(); ok {
		p.User = url.UserPassword(p.User.Username(), "xxxxx")
	}
	q := p.Query()
	redacted := false
	for _, k := range []string{"password", "sslpassword"} {
		if q.Has(k) {
			q.Set(k, "xxxxx")
			redacted = true
		}
	}
	if redacted {
		p.RawQuery = q.Encode()
	}
	return p.String()
}

// Close stops the sweeper and closes the connections. Close may be called
// more than once.
func (s *Postgres) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.stop()
		<-s.sweepDone
		s.pool.Close()
	})
	return nil
}

func (s *Postgres) checkOpen() error {
	if s.closed.Load() {
		return ErrClosed
	}
	return nil
}

// Ping reads the store's counters row: the database answers and holds
// the schema.
func (s *Postgres) Ping(ctx context.Context) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	var id int
	if err := s.readCounters(ctx, `SELECT id FROM store_stats`, &id); err != nil {
		return fmt.Errorf("reading the store: %w", err)
	}
	return nil
}

// readCounters reads the row of store_stats on the pool, unobserved (see
// pgexec.go), once more if the connection was lost (see connLost).
func (s *Postgres) readCounters(ctx context.Context, query string, dest ...any) error {
	err := s.pool.QueryRow(ctx, query).Scan(dest...)
	if s.reconnect(s.pool, err) {
		err = s.pool.QueryRow(ctx, query).Scan(dest...)
	}
	return err
}

// EntryCount is the number of entries and graph entities, from the
// counters the triggers keep.
func (s *Postgres) EntryCount(ctx context.Context) (int64, error) {
	return s.counter(ctx, "entries + graph_entities")
}

// RelationshipCount is the number of relationships and graph relations.
func (s *Postgres) RelationshipCount(ctx context.Context) (int64, error) {
	return s.counter(ctx, "relationships + graph_relations")
}

func (s *Postgres) counter(ctx context.Context, column string) (int64, error) {
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	var n int64
	if err := s.readCounters(ctx, `SELECT `+column+` FROM store_stats`, &n); err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return 0, err
		}
		return 0, fmt.Errorf("counting %s: %w", column, err)
	}
	return n, nil
}

// Stats describe the store. DBBytes is the whole database's size on
// disk (pg_database_size), which counts what other programs keep in it.
func (s *Postgres) Stats(ctx context.Context) (Stats, error) {
	if err := s.checkOpen(); err != nil {
		return Stats{}, err
	}
	st := Stats{ByContextType: map[string]int{}, Cache: s.cache.stats()}
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		err := s.queryRow(ctx, tx, `SELECT entries, relationships, graph_entities, graph_relations, expired_swept,
				pg_database_size(current_database()) FROM store_stats`, nil,
			&st.Entries, &st.Relationships, &st.GraphEntities, &st.GraphRelations, &st.ExpiredSwept, &st.DBBytes)
		if err != nil {
			return err
		}
		err = s.queryRow(ctx, tx, `SELECT count(DISTINCT conversation_id) FROM entries WHERE conversation_id <> ''`, nil,
			&st.Conversations)
		if err != nil {
			return err
		}
		return s.query(ctx, tx, `SELECT context_type, count(*) FROM entries GROUP BY context_type`, nil,
			func(rows rowScanner) error {
				var t string
				var n int
				err := rows.Scan(&t, &n)
				st.ByContextType[t] = n
				return err
			})
	})
	if err != nil {
		return Stats{}, fmt.Errorf("reading store stats: %w", err)
	}
	return st, nil
}
