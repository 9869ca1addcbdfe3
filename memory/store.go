package memory

import (
	"context"
	"io"
	"time"
)

// Store is the enhanced-memory store as its users see it: the MCP tools,
// the memory import and export commands, the readiness check and the
// monitor's gauges. SQLite is the implementation; another database goes
// behind this interface as one more type, and runs the same tests (see
// forEachBackend in the tests). The methods' contracts are those written
// on SQLite's, which those tests hold every implementation to. All
// methods are safe for concurrent use; after Close they return ErrClosed.
//
// A wrapper that embeds a Store must embed it under another name (a type
// alias): a field named Store would hide the method Store.
type Store interface {
	// Entries and their relationships: the enhanced_memory tool.
	Store(ctx context.Context, ne NewEntry) (Entry, error)
	Get(ctx context.Context, id string) (Entry, error)
	Update(ctx context.Context, id string, p Patch) (Entry, error)
	Delete(ctx context.Context, id string) error
	Clear(ctx context.Context, conversationID string) (int, error)
	Retrieve(ctx context.Context, q Query) (Page, error)
	Search(ctx context.Context, q SearchQuery) (SearchPage, error)
	Relate(ctx context.Context, nr NewRelationship) (Relationship, error)
	Context(ctx context.Context, id string, depth int) (ContextResult, error)
	Stats(ctx context.Context) (Stats, error)

	// The knowledge graph: its tools and resource, and the memory import
	// and export commands.
	CreateEntities(ctx context.Context, es []Entity) ([]Entity, error)
	CreateRelations(ctx context.Context, rs []Relation) ([]Relation, error)
	AddObservations(ctx context.Context, adds []ObservationAddition) ([]ObservationResult, error)
	DeleteEntities(ctx context.Context, names []string) (GraphChanges, error)
	DeleteObservations(ctx context.Context, dels []ObservationDeletion) (GraphChanges, error)
	DeleteRelations(ctx context.Context, rs []Relation) (GraphChanges, error)
	ReadGraph(ctx context.Context, q GraphQuery) (GraphPage, error)
	OpenNodes(ctx context.Context, names []string, namesOnly bool) (Graph, error)
	SearchNodes(ctx context.Context, q NodeQuery) (GraphPage, error)
	ImportGraph(ctx context.Context, r io.Reader) (ImportResult, error)
	ExportGraph(ctx context.Context, w io.Writer) (entities, relations int, err error)

	// Upkeep. Ping is the readiness check; EntryCount and
	// RelationshipCount feed the monitor's gauges (see Gauge), once per
	// sample, so they must cost the same at any size and not count as
	// queries to the Observer.
	Ping(ctx context.Context) error
	EntryCount(ctx context.Context) (int64, error)
	RelationshipCount(ctx context.Context) (int64, error)
	Close() error
}

// Open opens the store opts describe: the PostgreSQL database at opts.URL
// when it is set (see OpenPostgres), else the SQLite file at opts.Path
// (see OpenSQLite).
func Open(ctx context.Context, opts Options) (Store, error) {
	if opts.URL != "" {
		s, err := OpenPostgres(ctx, opts)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	s, err := OpenSQLite(ctx, opts)
	if err != nil {
		return nil, err // not a nil *SQLite in a non-nil Store
	}
	return s, nil
}

// Defaults used when an Options field is zero.
const (
	DefaultCacheSize     = 1024
	DefaultSweepInterval = time.Minute
	DefaultBusyTimeout   = 30 * time.Second
)

// Options configure a Store. Only Path, or URL, is required; the zero
// value of every other field is a good default.
type Options struct {
	// Path is the SQLite database file, created when missing. The files
	// Path+"-wal" and Path+"-shm" live next to it.
	Path string
	// URL, when set, is a PostgreSQL database (postgres://user@host/db,
	// any form pgx takes) that holds the store instead; Path is unused.
	URL string
	// CacheSize is the number of entries the read cache holds. Default
	// 1024; negative disables the cache.
	CacheSize int
	// Monitor, when set, is told of every SQL statement (ObserveQuery)
	// and cache lookup (RecordCacheLookup); *monitor.Monitor is one. The
	// gauges of the store's counts are registered by the caller, from
	// Gauge.
	Monitor Observer
	// SweepInterval is how often expired entries are deleted. Default 1 min.
	// Expired entries are invisible to every read before they are swept.
	SweepInterval time.Duration
	// BusyTimeout is how long a statement waits for a lock another process
	// holds before giving up (SQLite), or how long a write that lost a
	// race is retried and a statement may go without an answer from the
	// database (PostgreSQL); a write that waits longer fails and changes
	// nothing. Default 30 s: under the race detector on two cores busy
	// with other work, a test of two processes writing flat out saw a
	// writer wait 8.8 s before writers took turns (see writeTurns), and
	// still about 1 s after.
	BusyTimeout time.Duration

	// now is the clock; tests replace it.
	now func() time.Time
	// swept, when set, is called after every sweep with the number of
	// entries it deleted, so that tests can wait for the sweeper.
	swept func(n int, err error)
}

func (o Options) withDefaults() Options {
	if o.CacheSize == 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.SweepInterval <= 0 {
		o.SweepInterval = DefaultSweepInterval
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = DefaultBusyTimeout
	}
	if o.now == nil {
		o.now = time.Now
	}
	return o
}
