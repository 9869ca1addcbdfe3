package memory

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// Retrieve lists the entries that match q, newest first, one page at a
// time: Retrieve on SQLite says how.
func (s *Postgres) Retrieve(ctx context.Context, q Query) (Page, error) {
	if err := s.checkOpen(); err != nil {
		return Page{}, err
	}
	f, fingerprint, err := q.validate()
	if err != nil {
		return Page{}, err
	}
	limit, _ := checkLimit(q.Limit) // validated above
	var args pgArgs
	conds := f.pgWhere(s.now().UnixMilli(), &args)
	if len(q.IDs) > 0 {
		conds = append(conds, `e.id = ANY(`+args.add(q.IDs)+`::text[])`)
	}
	countConds, countArgs := conds, args
	if q.Cursor != "" {
		c, err := parseCursor(q.Cursor, fingerprint, cursorRetrieve)
		if err != nil {
			return Page{}, err
		}
		args = append(pgArgs{}, args...)
		key := args.add(int64(c.key))
		conds = append(conds[:len(conds):len(conds)], `(e.created_at, e.seq) < (`+key+`, `+args.add(c.seq)+`)`)
	}

	page := Page{Entries: []Entry{}}
	p := entryPage{scan: pgScanEntry, limit: limit}
	run := func(fn func(q pgQueryer) error) error { return fn(s.pool) }
	if q.CountTotal {
		run = func(fn func(q pgQueryer) error) error {
			return s.readTx(ctx, func(tx pgx.Tx) error { return fn(tx) })
		}
	}
	err = run(func(tx pgQueryer) error {
		err := s.query(ctx, tx, `SELECT `+entryCols+` FROM entries e WHERE `+pgAnd(conds)+`
			ORDER BY e.created_at DESC, e.seq DESC LIMIT `+strconv.Itoa(limit+1),
			args, p.rows(page.add))
		if err != nil || !q.CountTotal {
			return err
		}
		var total int
		err = s.queryRow(ctx, tx, `SELECT count(*) FROM entries e WHERE `+pgAnd(countConds), countArgs, &total)
		page.Total = &total
		return err
	})
	if err != nil {
		return Page{}, fmt.Errorf("retrieving entries: %w", err)
	}
	page.end(p, fingerprint)
	return page, nil
}
