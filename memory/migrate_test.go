package memory

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestLoadMigrations(t *testing.T) {
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err != nil || len(ms) == 0 || ms[0].version != 1 {
		t.Fatalf("embedded migrations: %d, %v", len(ms), err)
	}
	tests := []struct {
		name  string
		files []string
		msg   string
	}{
		{"no number", []string{"migrations/init.sql"}, "must start with a positive number"},
		{"zero", []string{"migrations/0000_init.sql"}, "must start with a positive number"},
		{"gap", []string{"migrations/0001_a.sql", "migrations/0003_c.sql"}, "0003_c.sql: expected version 2"},
		{"repeat", []string{"migrations/0001_a.sql", "migrations/0001_b.sql"}, "expected version 2"},
	}
	for _, tt := range tests {
		fsys := fstest.MapFS{}
		for _, f := range tt.files {
			fsys[f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
		}
		if _, err := loadMigrations(fsys, "migrations"); err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: error %v, want one saying %q", tt.name, err, tt.msg)
		}
	}
}

func TestOpenAgainAndPragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	ctx := context.Background()
	for range 2 { // the second Open finds the schema current
		s, err := OpenSQLite(ctx, Options{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		v, err := s.schemaVersion(ctx)
		if want := latestSchema(t); err != nil || v != want {
			t.Errorf("schema version %d, %v; want %d", v, err, want)
		}
		for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "1", "busy_timeout": "30000"} {
			var got string
			if err := s.queryRow(ctx, s.db, "PRAGMA "+pragma, nil, &got); err != nil || got != want {
				t.Errorf("PRAGMA %s = %q, %v; want %q", pragma, got, err, want)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	ctx := context.Background()
	s, err := OpenSQLite(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", dsn(path, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations VALUES (99, '0099_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = OpenSQLite(ctx, Options{Path: path})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("schema version 99, newer than this program knows (%d)", latestSchema(t))) {
		t.Errorf("Open of a newer schema: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := OpenSQLite(ctx, Options{}); err == nil || !strings.Contains(err.Error(), "path is required") {
		t.Errorf("Open without a path: %v", err)
	}
	dir := t.TempDir()
	if _, err := OpenSQLite(ctx, Options{Path: filepath.Join(dir, "missing", "dir", "m.db")}); err == nil {
		t.Errorf("Open in a missing directory worked")
	}
	// A path with characters that mean something in a URI.
	odd := filepath.Join(dir, "a ?b#c%20.db")
	s, err := OpenSQLite(ctx, Options{Path: odd})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Store(ctx, NewEntry{Content: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(odd); err != nil {
		t.Errorf("database file not at %q: %v", odd, err)
	}
}

func latestSchema(t *testing.T) int {
	t.Helper()
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	return len(ms)
}

// TestUpgradeKeepsData opens a file made by the first schema, with an
// entry and a relationship in it, and checks the upgrade keeps them and
// counts them.
func TestUpgradeKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	ctx := context.Background()
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(path, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
		ms[0].sql,
		`INSERT INTO schema_migrations VALUES (1, '0001_init.sql', 0)`,
		`INSERT INTO entries (id, content, created_at, updated_at) VALUES ('mem_a', 'first', 1, 1), ('mem_b', 'second', 1, 1)`,
		`INSERT INTO relationships (id, source_id, target_id, type, created_at, updated_at) VALUES ('rel_a', 'mem_a', 'mem_b', 'follows', 1, 1)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	db.Close()

	s, err := OpenSQLite(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.schemaVersion(ctx); err != nil || v != len(ms) {
		t.Errorf("schema version %d, %v; want %d", v, err, len(ms))
	}
	if _, err := s.CreateEntities(ctx, []Entity{{Name: "Ada", EntityType: "person"}}); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Entries != 2 || st.Relationships != 1 || st.GraphEntities != 1 {
		t.Errorf("after the upgrade: %+v; want 2 entries, 1 relationship, 1 graph entity", st)
	}
	if e, err := s.Get(ctx, "mem_b"); err != nil || e.Content != "second" {
		t.Errorf("Get(mem_b) = %+v, %v", e, err)
	}
}
