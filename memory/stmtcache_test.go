package memory

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

// Statements are prepared once, whatever runs them; past maxStmts distinct
// texts they run unprepared and still give their answer.
func TestStmtCache(t *testing.T) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, Options{Path: filepath.Join(t.TempDir(), "m.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The same text in a transaction and on the pool: one statement.
	const q = `SELECT count(*) FROM graph_entities`
	err = s.readTx(ctx, func(tx *sql.Tx) error {
		var n int
		return s.queryRow(ctx, tx, q, nil, &n)
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.queryRow(ctx, s.db, q, nil, &n); err != nil {
		t.Fatal(err)
	}
	s.stmts.mu.Lock()
	_, cached := s.stmts.m[q]
	s.stmts.mu.Unlock()
	if !cached {
		t.Errorf("%s was not kept prepared", q)
	}
	for i := range maxStmts + 10 {
		var n int
		if err := s.queryRow(ctx, s.db, fmt.Sprintf("SELECT %d", i), nil, &n); err != nil || n != i {
			t.Fatalf("SELECT %d = %d, %v", i, n, err)
		}
	}
	s.stmts.mu.Lock()
	size := len(s.stmts.m)
	s.stmts.mu.Unlock()
	if size != maxStmts {
		t.Errorf("%d statements cached; want the bound, %d", size, maxStmts)
	}
}
