package memory

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Limits on relationships and on Context.
const (
	MaxRelationshipTypeBytes = 64
	DefaultStrength          = 1.0
	DefaultContextDepth      = 1
	MaxContextDepth          = 5
	// MaxRelated bounds the entries Context returns.
	MaxRelated = 100
)

// A Relationship is a typed, directed link from one entry to another.
type Relationship struct {
	ID        string         `json:"id"`
	SourceID  string         `json:"source_id"`
	TargetID  string         `json:"target_id"`
	Type      string         `json:"type"`     // free text: "supports", "follows", "contradicts"…
	Strength  float64        `json:"strength"` // 0 to 1
	Metadata  map[string]any `json:"metadata"` // never nil
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// NewRelationship is what Relate needs.
type NewRelationship struct {
	SourceID string `json:"source_id"`
	TargetID string `json:"target_id"`
	Type     string `json:"type"`
	// Strength is 0 to 1; nil: 1 for a new relationship, unchanged for an
	// existing one.
	Strength *float64 `json:"strength,omitempty"`
	// Metadata replaces the relationship's metadata; nil: {} for a new
	// relationship, unchanged for an existing one.
	Metadata map[string]any `json:"metadata,omitempty"`
}

const relationshipColumns = `id, source_id, target_id, type, strength, metadata, created_at, updated_at`

var relCols = "r." + strings.ReplaceAll(relationshipColumns, ", ", ", r.")

func scanRelationship(dest []any, r *Relationship, meta *string, created, updated *int64) []any {
	return append(dest, &r.ID, &r.SourceID, &r.TargetID, &r.Type, &r.Strength, meta, created, updated)
}

func finishRelationship(r *Relationship, meta string, created, updated int64) error {
	var err error
	if r.Metadata, err = decodeObject(meta); err != nil {
		return fmt.Errorf("relationship %s: metadata: %w", r.ID, err)
	}
	r.CreatedAt, r.UpdatedAt = fromMillis(created), fromMillis(updated)
	return nil
}

// Relate links two live entries. Relating the same source, target and type
// again updates that relationship's strength and metadata, when given,
// and returns it. An entry cannot be related to itself: such a link says
// nothing, and Context would only find the entry it started from.
func (s *SQLite) Relate(ctx context.Context, nr NewRelationship) (Relationship, error) {
	if err := s.checkOpen(); err != nil {
		return Relationship{}, err
	}
	return relate(nr, s.now, &s.ids, func(a relateArgs) (r Relationship, err error) {
		err = s.write(ctx, func(w *writeTx) error {
			err := nr.checkEnds(func(scan func(rowScanner) error) error {
				return s.query(ctx, w.tx, `SELECT e.id FROM entries e WHERE e.id IN (?, ?) AND `+liveCond,
					a.ends, scan)
			})
			if err != nil {
				return err
			}
			return s.query(ctx, w.tx, `INSERT INTO relationships
				(id, source_id, target_id, type, strength, metadata, created_at, updated_at)
			VALUES (?1, ?2, ?3, ?4, coalesce(?5, ?8), coalesce(?6, '{}'), ?7, ?7)
			ON CONFLICT (source_id, target_id, type) DO UPDATE SET
				strength   = coalesce(?5, strength),
				metadata   = coalesce(?6, metadata),
				updated_at = ?7
			RETURNING `+relationshipColumns,
				a.upsert, scanRelationshipInto(&r))
		})
		return r, err
	})
}

// relateArgs are the arguments of Relate's statements: ends those of the
// query of its live ends, upsert those of the insert, or update, of the
// relationship.
type relateArgs struct{ ends, upsert []any }

// relate validates nr and relates its ends with link, at the time now
// returns, a new relationship getting an id from ids.
func relate(nr NewRelationship, now func() time.Time, ids *idSource, link func(a relateArgs) (Relationship, error)) (Relationship, error) {
	typ, strength, meta, err := nr.validate()
	if err != nil {
		return Relationship{}, err
	}
	t := now()
	ms := t.UnixMilli()
	id := ids.next(relationshipPrefix, t)
	r, err := link(relateArgs{
		ends:   []any{nr.SourceID, nr.TargetID, ms},
		upsert: []any{id, nr.SourceID, nr.TargetID, typ, strength, meta, ms, DefaultStrength},
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return Relationship{}, err
		}
		return Relationship{}, fmt.Errorf("relating %s to %s: %w", nr.SourceID, nr.TargetID, err)
	}
	return r, nil
}

// checkEnds says which end of nr is not a live entry, if one is not;
// query lists those that are, one id a row.
func (nr NewRelationship) checkEnds(query func(scan func(rowScanner) error) error) error {
	found := map[string]bool{}
	err := query(func(rows rowScanner) error {
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
	return nil
}

// scanRelationshipInto is the callback of a query that returns the
// columns of relationshipColumns: it reads the row into r.
func scanRelationshipInto(r *Relationship) func(rowScanner) error {
	return func(rows rowScanner) error {
		var (
			meta             string
			created, updated int64
		)
		if err := rows.Scan(scanRelationship(nil, r, &meta, &created, &updated)...); err != nil {
			return err
		}
		return finishRelationship(r, meta, created, updated)
	}
}

// validate checks nr and returns its type, trimmed, and its strength and
// metadata as the statements take them (nil: not given).
func (nr NewRelationship) validate() (typ string, strength, meta any, err error) {
	if err := checkID("source_id", nr.SourceID); err != nil {
		return "", nil, nil, err
	}
	if err := checkID("target_id", nr.TargetID); err != nil {
		return "", nil, nil, err
	}
	if nr.SourceID == nr.TargetID {
		return "", nil, nil, invalidf("invalid target_id %s: the same as source_id; an entry cannot be related to itself", nr.TargetID)
	}
	typ = strings.TrimSpace(nr.Type)
	if typ == "" {
		return "", nil, nil, invalidf("invalid type: required, e.g. \"related_to\" or \"supports\"")
	}
	if err := checkLabel("type", typ, MaxRelationshipTypeBytes); err != nil {
		return "", nil, nil, err
	}
	if nr.Strength != nil {
		if err := checkUnit("strength", *nr.Strength); err != nil {
			return "", nil, nil, err
		}
		strength = *nr.Strength
	}
	if nr.Metadata != nil {
		m, err := encodeObject(nr.Metadata)
		if err != nil {
			return "", nil, nil, err
		}
		meta = m
	}
	return typ, strength, meta, nil
}

// Directions of a Related entry.
const (
	// DirectionOut: the relationship goes from the entry nearer the start
	// to this one.
	DirectionOut = "out"
	// DirectionIn: the relationship goes from this entry to the one nearer
	// the start.
	DirectionIn = "in"
)

// Related is an entry Context reached, and how.
type Related struct {
	Entry Entry `json:"entry"`
	// Relationship is the link it was reached through; its SourceID or
	// TargetID is the entry one step nearer the start.
	Relationship Relationship `json:"relationship"`
	Depth        int          `json:"depth"`     // 1: linked to the start directly
	Direction    string       `json:"direction"` // DirectionOut or DirectionIn
}

// ContextResult is an entry and its neighbourhood.
type ContextResult struct {
	Entry   Entry     `json:"entry"`
	Related []Related `json:"related"`
	// Truncated is set when more entries were within reach than
	// MaxRelated.
	Truncated bool `json:"truncated,omitempty"`
}

// Context returns the entry with the given id and the live entries within
// depth relationships of it (default 1, at most 5), following
// relationships both ways, breadth first: nearer entries first, and within
// one depth the stronger relationships first. Each entry appears once, at
// its smallest depth; at most MaxRelated are returned.
func (s *SQLite) Context(ctx context.Context, id string, depth int) (ContextResult, error) {
	if err := s.checkOpen(); err != nil {
		return ContextResult{}, err
	}
	depth, err := checkContextArgs(id, depth)
	if err != nil {
		return ContextResult{}, err
	}
	var res ContextResult
	now := s.now()
	err = s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		if res.Entry, err = s.getEntry(ctx, tx, id, now); err != nil {
			return err
		}
		return walkContext(&res, id, depth, func(frontier, visited []string, fn func(Related) bool) (bool, error) {
			return s.neighbours(ctx, tx, frontier, visited, now, fn)
		})
	})
	return contextResult(id, res, err)
}

// neighbours calls fn with each live entry linked to an entry of frontier
// and not in visited, strongest relationship first, until fn returns
// false. It reports whether contextFanout cut the list short.
func (s *SQLite) neighbours(ctx context.Context, tx *sql.Tx, frontier, visited []string, now time.Time,
	fn func(Related) bool) (bool, error) {
	f, _ := json.Marshal(frontier)
	v, _ := json.Marshal(visited)
	ms := now.UnixMilli()
	half := func(dir, near, far string) string {
		return `SELECT '` + dir + `', ` + relCols + `, ` + entryCols + `
			FROM relationships r CROSS JOIN entries e ON e.id = r.` + far + `
			WHERE r.` + near + ` IN (SELECT value FROM json_each(?))
			  AND e.id NOT IN (SELECT value FROM json_each(?))
			  AND ` + liveCond
	}
	// Result columns: 1 direction, 2–9 the relationship (6 strength, 8
	// created_at), then the entry.
	stmt := half(DirectionOut, "source_id", "target_id") + ` UNION ALL ` + half(DirectionIn, "target_id", "source_id") +
		` ORDER BY 6 DESC, 8, 2 LIMIT ?`
	ns := neighbourScan{scan: scanEntry, fn: fn}
	err := s.query(ctx, tx, stmt, []any{string(f), string(v), ms, string(f), string(v), ms, contextFanout}, ns.row)
	return ns.cut(), err
}
