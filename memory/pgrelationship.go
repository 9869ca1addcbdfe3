package memory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Relate relates two live entries, or updates the relationship of that
// type between them: Relate on SQLite says how.
func (s *Postgres) Relate(ctx context.Context, nr NewRelationship) (Relationship, error) {
	if err := s.checkOpen(); err != nil {
		return Relationship{}, err
	}
	typ, strength, meta, err := nr.validate()
	if err != nil {
		return Relationship{}, err
	}
	now := s.now()
	ms := now.UnixMilli()
	id := s.ids.next(relationshipPrefix, now)
	var r Relationship
	err = s.write(ctx, func(w *pgWriteTx) error {
		found := map[string]bool{}
		err := s.query(ctx, w.tx, `SELECT e.id FROM entries e WHERE e.id IN ($1, $2) AND `+pgLive(3),
			[]any{nr.SourceID, nr.TargetID, ms}, func(rows rowScanner) error {
				var id string
				err := rows.Scan(&id)
				found[id] = true
				return err
			})
		if err != nil {
			return err
		}
		for _, end := range []struct{ field, id string }{{"source", nr.SourceID}, {"target", nr.TargetID}} {
			if !found[end.id] {
				return notFoundf("%s entry %s not found", end.field, end.id)
			}
		}
		return s.query(ctx, w.tx, `INSERT INTO relationships AS r
				(id, source_id, target_id, type, strength, metadata, created_at, updated_at)
			VALUES ($1, $2, $3, $4, coalesce($5::float8, $8), coalesce($6::jsonb, '{}'), $7, $7)
			ON CONFLICT (source_id, target_id, type) DO UPDATE SET
				strength   = coalesce($5::float8, r.strength),
				metadata   = coalesce($6::jsonb, r.metadata),
				updated_at = $7
			RETURNING `+relationshipColumns,
			[]any{id, nr.SourceID, nr.TargetID, typ, strength, meta, ms, DefaultStrength},
			func(rows rowScanner) error {
				var err error
				r, err = pgScanRelationship(rows)
				return err
			})
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return Relationship{}, err
		}
		return Relationship{}, fmt.Errorf("relating %s to %s: %w", nr.SourceID, nr.TargetID, err)
	}
	return r, nil
}

// pgScanRelationship reads the columns of relationshipColumns, and those
// of extra after them.
func pgScanRelationship(sc rowScanner, extra ...any) (Relationship, error) {
	var (
		r                Relationship
		meta             string
		created, updated int64
	)
	if err := sc.Scan(scanRelationship(nil, &r, &meta, &created, &updated)...); err != nil {
		return Relationship{}, err
	}
	return r, finishRelationship(&r, meta, created, updated)
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
	now := s.now()
	var res ContextResult
	err = s.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		if res.Entry, err = s.getEntry(ctx, tx, id, now, false); err != nil {
			return err
		}
		return walkContext(&res, id, depth, func(frontier, visited []string, fn func(Related) bool) (bool, error) {
			return s.neighbours(ctx, tx, frontier, visited, now, fn)
		})
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return ContextResult{}, err
		}
		return ContextResult{}, fmt.Errorf("getting context of %s: %w", id, err)
	}
	return res, nil
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
	stop := false
	n := 0
	err := s.query(ctx, tx, stmt, []any{frontier, visited, now.UnixMilli(), contextFanout}, func(rows rowScanner) error {
		n++
		if stop {
			return nil
		}
		var (
			rel              Related
			meta             string
			created, updated int64
		)
		dest := scanRelationship([]any{&rel.Direction}, &rel.Relationship, &meta, &created, &updated)
		e, _, err := pgScanEntry(scanPrefix{rows, dest})
		if err != nil {
			return err
		}
		if err := finishRelationship(&rel.Relationship, meta, created, updated); err != nil {
			return err
		}
		rel.Entry = e
		stop = !fn(rel)
		return nil
	})
	return !stop && n == contextFanout, err
}
