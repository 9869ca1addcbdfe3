package memory

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pgMigrationFiles are PostgreSQL's schema changes, numbered as SQLite's
// are (see migrationFiles) but their own: the two schemas say the same in
// each engine's terms.
//
//go:embed pgmigrations/*.sql
var pgMigrationFiles embed.FS

// pgMigrateLock is the key of the advisory lock that makes servers
// starting together on one database migrate it one at a time: the
// second waits, then finds the schema current.
const pgMigrateLock = 0x7062617475 // "pbatu"

// migrate brings the schema up to date, all pending migrations in one
// transaction under the advisory lock, each recorded in schema_migrations:
// a failure leaves the schema as it was.
func (s *Postgres) migrate(ctx context.Context) error {
	ms, err := loadMigrations(pgMigrationFiles, "pgmigrations")
	if err != nil {
		return err
	}
	tx, err := s.begin(ctx, pgx.TxOptions{})
	if err != nil {
		return err
	}
	defer s.rollback(ctx, tx)
	// The store takes any UTF-8 text; a database of another encoding
	// would refuse some, each call failing with an encoding error.
	var encoding string
	if err := s.queryRow(ctx, tx, `SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()`,
		nil, &encoding); err != nil {
		return fmt.Errorf("reading the database's encoding: %w", err)
	}
	if encoding != "UTF8" {
		return fmt.Errorf("the database's encoding is %s; the store needs UTF8 (CREATE DATABASE … ENCODING 'UTF8' TEMPLATE template0)", encoding)
	}
	// Transaction-scoped: released by the commit or rollback, even if
	// this process dies half-way.
	if _, err := s.exec(ctx, tx, `SELECT pg_advisory_xact_lock($1)`, int64(pgMigrateLock)); err != nil {
		return fmt.Errorf("waiting for the migration lock: %w", err)
	}
	_, err = s.exec(ctx, tx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text    NOT NULL,
		applied_at bigint  NOT NULL
	)`)
	if err != nil {
		return fmt.Errorf("creating schema_migrations: %w", err)
	}
	var newest int
	if err := s.queryRow(ctx, tx, `SELECT coalesce(max(version), 0) FROM schema_migrations`, nil, &newest); err != nil {
		return err
	}
	if newest > len(ms) {
		return fmt.Errorf("the database is at schema version %d, newer than this program knows (%d)", newest, len(ms))
	}
	for _, m := range ms[newest:] {
		// Several statements: the simple protocol runs them as one script.
		if _, err := s.exec(ctx, tx, m.sql, pgx.QueryExecModeSimpleProtocol); err != nil {
			return fmt.Errorf("applying migration %s: %w%s", m.name, err, extensionHint(err))
		}
		_, err = s.exec(ctx, tx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.version, m.name, s.now().UnixMilli())
		if err != nil {
			return fmt.Errorf("recording migration %s: %w", m.name, err)
		}
	}
	return s.commit(ctx, tx)
}

// pgExtensions are the extensions the schema needs. Both are trusted: a
// role with CREATE on the database may create them, and a role without
// it may use them once an administrator has.
var pgExtensions = []string{"unaccent", "pg_trgm"}

// extensionHint is what to add to err when it says the role may not
// create an extension: who may, and what they run.
func extensionHint(err error) string {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42501" || !strings.Contains(pe.Message, "extension") {
		return ""
	}
	var stmts []string
	for _, e := range pgExtensions {
		stmts = append(stmts, "CREATE EXTENSION IF NOT EXISTS "+e+";")
	}
	return "; the role needs CREATE on the database for the extensions the store uses, or the database's owner runs in it, once: " +
		strings.Join(stmts, " ")
}
