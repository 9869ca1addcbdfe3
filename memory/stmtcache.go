package memory

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps the store's statements prepared. SQLite compiles a
// statement's text every time it is prepared, and with database/sql
// preparing once per call that was a fifth of a graph search's time. A
// prepared sql.Stmt is re-prepared by database/sql on each pooled
// connection it meets, once, and bound to a transaction with Tx.StmtContext
// without compiling again. Safe for concurrent use; a nil *stmtCache
// prepares nothing.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// maxStmts bounds the cache: the store's statements are a few dozen texts,
// and one built with a variable part must not grow it without end.
const maxStmts = 256

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}}
}

// get returns query prepared for q, the pool or a transaction of it; nil
// (and no error) when q is something else, such as a dedicated connection,
// or the cache is full: the caller then runs the text as it is.
func (c *stmtCache) get(ctx context.Context, q queryer, query string) (*sql.Stmt, error) {
	if c == nil {
		return nil, nil
	}
	tx, isTx := q.(*sql.Tx)
	if db, ok := q.(*sql.DB); !isTx && (!ok || db != c.db) {
		return nil, nil
	}
	c.mu.Lock()
	st, ok := c.m[query]
	full := len(c.m) >= maxStmts
	c.mu.Unlock()
	if !ok {
		if full {
			return nil, nil
		}
		var err error
		if st, err = c.db.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		c.mu.Lock()
		if prev, ok := c.m[query]; ok { // prepared meanwhile by another caller
			st.Close()
			st = prev
		} else {
			c.m[query] = st
		}
		c.mu.Unlock()
	}
	if isTx {
		// Closed with the transaction.
		return tx.StmtContext(ctx, st), nil
	}
	return st, nil
}

// close closes every statement; the cache is not used after.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	clear(c.m)
}
