package memory

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// migrationFiles are the schema changes, applied in the order of the number
// that starts each name (0001_init.sql, 0002_….sql). A file, once released,
// is never edited: a change is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the embedded files of dir in version order and
// checks that the versions run 1, 2, 3… without gaps or repeats.
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	names, err := fs.Glob(fsys, dir+"/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and an underscore", base)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.name, i+1)
		}
	}
	return ms, nil
}

// migrate brings the schema up to date. Each migration runs in its own
// write transaction, which also records it, so a crash leaves the schema
// at a known version, and two processes opening a new file at the same
// moment apply each migration once: the second finds it recorded once it
// gets the write lock.
func (s *SQLite) migrate(ctx context.Context) error {
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	// Usually the schema is current: find out without the write lock, so
	// that opening never waits for another process's writes.
	if v, err := s.schemaVersion(ctx); err != nil {
		return err
	} else if v == len(ms) {
		return nil
	}
	err = s.write(ctx, func(w *writeTx) error {
		_, err := s.exec(ctx, w.tx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT    NOT NULL,
			applied_at INTEGER NOT NULL
		)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("creating schema_migrations: %w", err)
	}
	for _, m := range ms {
		err := s.write(ctx, func(w *writeTx) error {
			var newest int
			err := s.queryRow(ctx, w.tx, `SELECT coalesce(max(version), 0) FROM schema_migrations`, nil, &newest)
			if err != nil {
				return err
			}
			if newest > len(ms) {
				return fmt.Errorf("the database is at schema version %d, newer than this program knows (%d)", newest, len(ms))
			}
			if newest >= m.version {
				return nil
			}
			if _, err := s.exec(ctx, w.tx, m.sql); err != nil {
				return err
			}
			_, err = s.exec(ctx, w.tx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, s.now().UnixMilli())
			return err
		})
		if err != nil {
			return fmt.Errorf("applying migration %s: %w", m.name, err)
		}
	}
	return nil
}

// schemaVersion returns the newest applied migration, 0 for a new file.
func (s *SQLite) schemaVersion(ctx context.Context) (int, error) {
	var tables int
	err := s.queryRow(ctx, s.db, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'`, nil, &tables)
	if err != nil || tables == 0 {
		return 0, err
	}
	var v int
	err = s.queryRow(ctx, s.db, `SELECT coalesce(max(version), 0) FROM schema_migrations`, nil, &v)
	return v, err
}
