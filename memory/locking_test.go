package memory_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/memory"
)

// While another process holds the write lock, reads go on (WAL), a write
// gives up after BusyTimeout with an error that says the database is
// locked, and a write whose context ends stops waiting.
func TestLockedDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locked.db")
	s := memory.MustOpenOptions(t, memory.Options{Path: path, BusyTimeout: 50 * time.Millisecond})
	slow := memory.MustOpenOptions(t, memory.Options{Path: path}) // BusyTimeout 5s
	e := mustStore(t, s, memory.NewEntry{Content: "before the lock"})

	raw, err := sql.Open("sqlite", memory.DSN(path, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	conn, err := raw.Conn(bg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(bg, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(bg, `UPDATE entries SET content = 'uncommitted'`); err != nil {
		t.Fatal(err)
	}

	if got, err := s.Get(bg, e.ID); err != nil || got.Content != "before the lock" {
		t.Errorf("read during the lock: %q, %v", got.Content, err)
	}
	start := time.Now()
	_, err = s.Store(bg, memory.NewEntry{Content: "blocked"})
	if err == nil || !strings.Contains(err.Error(), "locked") {
		t.Errorf("write during the lock: %v, want a database-locked error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the write gave up after %v, BusyTimeout is 50ms", d)
	}
	ctx, cancel := context.WithTimeout(bg, 10*time.Millisecond)
	defer cancel()
	if _, err := slow.Store(ctx, memory.NewEntry{Content: "blocked"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("write with a short context: %v, want DeadlineExceeded", err)
	}

	// Opening needs no write lock once the schema is current.
	other, err := memory.Open(bg, memory.Options{Path: path})
	if err != nil {
		t.Fatalf("Open while another process holds the write lock: %v", err)
	}
	other.Close()

	if _, err := conn.ExecContext(bg, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	mustStore(t, s, memory.NewEntry{Content: "after the lock"})
	if n, _ := s.EntryCount(bg); n != 2 {
		t.Errorf("EntryCount = %d, want 2", n)
	}
}
