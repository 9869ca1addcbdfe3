package memory

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// A Query lists entries, newest first.
type Query struct {
	Filter
	// IDs, when set, restricts the listing to these entries (at most
	// MaxLimit of them); ids that do not exist are left out.
	IDs []string `json:"ids,omitempty"`
	// Limit is the page size: default 20, at most 100.
	Limit int `json:"limit,omitempty"`
	// Cursor is a previous page's NextCursor, to get the page after it.
	Cursor string `json:"cursor,omitempty"`
	// CountTotal asks for Page.Total, which costs a count of every
	// matching entry.
	CountTotal bool `json:"count_total,omitempty"`
}

// A Page is one page of a listing.
type Page struct {
	Entries []Entry `json:"entries"`
	// NextCursor fetches the next page; empty on the last page.
	NextCursor string `json:"next_cursor,omitempty"`
	// Total is the number of matching entries on all pages, when the query
	// asked for it.
	Total *int `json:"total,omitempty"`
}

// Retrieve lists the live entries q matches, newest first, one page at a
// time.
func (s *SQLite) Retrieve(ctx context.Context, q Query) (Page, error) {
	if err := s.checkOpen(); err != nil {
		return Page{}, err
	}
	f, fingerprint, err := q.validate()
	if err != nil {
		return Page{}, err
	}
	limit, _ := checkLimit(q.Limit) // validated above
	var idsJSON string
	if len(q.IDs) > 0 {
		b, _ := json.Marshal(q.IDs)
		idsJSON = string(b)
	}

	conds, args := f.where(s.now().UnixMilli())
	if idsJSON != "" {
		conds = append(conds, `e.id IN (SELECT value FROM json_each(?))`)
		args = append(args, idsJSON)
	}
	countConds, countArgs := conds, args
	if q.Cursor != "" {
		c, err := parseCursor(q.Cursor, fingerprint, cursorRetrieve)
		if err != nil {
			return Page{}, err
		}
		// (created_at, seq) < (c.key, c.seq), written so that the first
		// term is a plain range on the index.
		conds = append(conds[:len(conds):len(conds)], `e.created_at <= ? AND (e.created_at < ? OR e.seq < ?)`)
		args = append(args[:len(args):len(args)], int64(c.key), int64(c.key), c.seq)
	}

	page := Page{Entries: []Entry{}}
	p := entryPage{scan: scanEntry, limit: limit}
	// Counting as well takes a read transaction, so that the total and the
	// page come from the same snapshot.
	run := func(fn func(q queryer) error) error { return fn(s.db) }
	if q.CountTotal {
		run = func(fn func(q queryer) error) error {
			return s.readTx(ctx, func(tx *sql.Tx) error { return fn(tx) })
		}
	}
	err = run(func(tx queryer) error {
		// The page's rows are chosen first and read whole after, so that a
		// sort (when a tag filter drives the plan) moves ids, not content.
		err := s.query(ctx, tx, `SELECT `+entryCols+` FROM (
				SELECT e.seq, e.created_at FROM entries e WHERE `+strings.Join(conds, " AND ")+`
				ORDER BY e.created_at DESC, e.seq DESC LIMIT `+strconv.Itoa(limit+1)+`
			) h CROSS JOIN entries e ON e.seq = h.seq
			ORDER BY h.created_at DESC, h.seq DESC`,
			args, p.rows(page.add))
		if err != nil || !q.CountTotal {
			return err
		}
		var total int
		err = s.queryRow(ctx, tx, `SELECT count(*) FROM entries e WHERE `+strings.Join(countConds, " AND "), countArgs, &total)
		page.Total = &total
		return err
	})
	if err != nil {
		return Page{}, fmt.Errorf("retrieving entries: %w", err)
	}
	page.end(p, fingerprint)
	return page, nil
}

// add appends e to the page.
func (page *Page) add(e Entry) { page.Entries = append(page.Entries, e) }

// end sets the page's NextCursor, when p says there is a next page: after
// its last entry, in the order of Retrieve.
func (page *Page) end(p entryPage, fingerprint uint64) {
	if p.more {
		last := page.Entries[len(page.Entries)-1]
		page.NextCursor = cursor{kind: cursorRetrieve, fingerprint: fingerprint, key: uint64(last.CreatedAt.UnixMilli()), seq: p.last}.String()
	}
}

// validate checks q and returns its filter, normalised, and the
// fingerprint its cursors carry.
func (q Query) validate() (Filter, uint64, error) {
	f, err := q.Filter.validate()
	if err != nil {
		return f, 0, err
	}
	if _, err := checkLimit(q.Limit); err != nil {
		return f, 0, err
	}
	var idsJSON string
	if len(q.IDs) > 0 {
		if len(q.IDs) > MaxLimit {
			return f, 0, invalidf("invalid ids: %d ids; at most %d", len(q.IDs), MaxLimit)
		}
		for i, id := range q.IDs {
			if err := checkID(fmt.Sprintf("ids[%d]", i), id); err != nil {
				return f, 0, err
			}
		}
		b, _ := json.Marshal(q.IDs)
		idsJSON = string(b)
	}
	fp, sum := newFingerprint()
	f.hash(fp)
	fp.str(idsJSON)
	return f, sum(), nil
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
