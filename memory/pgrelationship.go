package memory

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Relate relates two live entries, or updates the relationship of that
// type between them: Relate on SQLite says how.
func (s *Postgres) Relate(ctx context.Context, nr NewRelationship) (Relationship, error) {
	if err := s.checkOpen(); err != nil {
		return Relationship{}, err
	}
	return relate(nr, s.now, &s.ids, func(a relateArgs) (r Relationship, err error) {
		err = s.write(ctx, func(w *pgWriteTx) error {
			err := nr.checkEnds(func(scan func(rowScanner) error) error {
				return s.query(ctx, w.tx, `SELECT e.id FROM entries e WHERE e.id IN ($1, $2) AND `+pgLive(3),
					a.ends, scan)
			})
			if err != nil {
				return err
			}
			return s.query(ctx, w.tx, `INSERT INTO relationships AS r
				(id, source_id, target_id, type, strength, metadata, created_at, updated_at)
			VALUES ($1, $2, $3, $4, coalesce($5::float8, $8), coalesce($6::jsonb, '{}'), $7, $7)
			ON CONFLICT (source_id, target_id, type) DO UPDATE SET
				strength   = coalesce($5::float8, r.strength),
				metadata   = coalesce($6::jsonb, r.metadata),
				updated_at = $7
			RETURNING `+relationshipColumns,
				a.upsert, scanRelationshipInto(&r))
		})
		return r, err
	})
}

// Context returns an entry and the entries related to it, breadth first
// to depth: Context on SQLite says how. One snapshot serves every level.
func (s *Postgres) Context(ctx context.Context, id string, depth int) (ContextResult, error) {
	if err := s.checkOpen(); err != nil {
		return ContextResult{}, err
	}
	depth, err := checkContextArgs(id, depth)
	if err != nil {
		return ContextResult{}, err
	}
	var res ContextResult
	now := s.now()
	err = s.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		if res.Entry, err = s.getEntry(ctx, tx, id, now, false); err != nil {
			return err
		}
		return walkContext(&res, id, depth, func(frontier, visited []string, fn func(Related) bool) (bool, error) {
			return s.neighbours(ctx, tx, frontier, visited, now, fn)
		})
	})
	return contextResult(id, res, err)
}

// neighbours is SQLite's neighbours in PostgreSQL's terms.
func (s *Postgres) neighbours(ctx context.Context, tx pgx.Tx, frontier, visited []string, now time.Time,
	fn func(Related) bool) (bool, error) {
	half := func(dir, near, far string) string {
		return `SELECT '` + dir + `'::text, ` + relCols + `, ` + entryCols + `
			FROM relationships r JOIN entries e ON e.id = r.` + far + `
			WHERE r.` + near + ` = ANY($1::text[]) AND e.id <> ALL($2::text[]) AND ` + pgLive(3)
	}
	stmt := half(DirectionOut, "source_id", "target_id") + ` UNION ALL ` + half(DirectionIn, "target_id", "source_id") +
		` ORDER BY 6 DESC, 8, 2 LIMIT $4`
	ns := neighbourScan{scan: pgScanEntry, fn: fn}
	err := s.query(ctx, tx, stmt, []any{frontier, visited, now.UnixMilli(), contextFanout}, ns.row)
	return ns.cut(), err
}
