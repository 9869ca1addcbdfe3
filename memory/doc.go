// Package memory is the enhanced-memory store behind the enhanced_memory
// MCP tool: entries (memories) with tags, metadata and an optional time to
// live, typed relationships between them, full-text search, the knowledge
// graph, and a read cache, in one SQLite file (modernc.org/sqlite: pure Go,
// no cgo) or a PostgreSQL database (pgx).
//
// Its users hold a Store, the interface. SQLite is the implementation kept
// in one file; Postgres keeps the same data in a PostgreSQL database that
// several servers share (see Postgres for how it differs). Open opens
// either. What follows describes SQLite.
//
// # Concurrency
//
// A Store is safe for concurrent use, and several Stores — in one process
// or in several — may open the same file at once. The file is in WAL mode,
// so readers never wait for the writer; every write transaction takes the
// write lock when it begins (BEGIN IMMEDIATE), so two writers never
// deadlock on a lock upgrade, and a writer that finds the file locked
// waits (busy_timeout) and then retries. Writers of different processes
// take turns through two lock files beside the database (Path+"-writer"
// and Path+"-waiting", see writeTurns), so that one process writing
// without a pause cannot keep another's writer waiting for long. The read
// cache checks PRAGMA data_version before it is trusted, so a write by
// another process is seen by the next read.
//
// # Data
//
// Ids are "mem_" (entries) or "rel_" (relationships) followed by a
// 26-character ULID: creation time first, so ids sort by age. Times are
// kept to the millisecond. Deleting an entry deletes its relationships;
// an entry cannot be related to itself. An expired entry is invisible to
// every read at once and deleted by a sweeper in the background.
//
// Update applies Patch.Metadata as a JSON Merge Patch (RFC 7396), or
// replaces the object with Patch.ReplaceMetadata; Relate, on a
// relationship that exists, replaces its metadata when given.
//
// # Reads
//
// Retrieve lists entries newest first. Search ranks them by BM25 times an
// importance factor, or, for text whose every word is in very many
// entries, lists the matches newest first (see Search). Both page with
// opaque cursors
// (keyset pagination, never OFFSET), so a page costs the same wherever it
// is and writes between pages shift nothing. Search text is never parsed
// as FTS5 syntax: any string a user types is a valid query.
//
// # Errors
//
// Bad input returns an error wrapping ErrInvalid whose message names the
// field and says why ("invalid importance 1.5: must be between 0 and 1");
// a missing or expired entry, ErrNotFound; a closed store, ErrClosed.
//
// # Monitoring
//
// With Options.Monitor set, an Observer such as *monitor.Monitor, every
// SQL statement is timed with ObserveQuery and every cache lookup reported
// with RecordCacheLookup. The caller turns EntryCount and
// RelationshipCount into the gauges memory_entries_count and
// relationship_count with Gauge; they read counters that triggers keep in
// the database, so that a sample costs one row read however large the
// store, and counts the writes of other processes too.
package memory
