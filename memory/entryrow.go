package memory

import (
	"encoding/json"
	"fmt"
)

// An entryScanner reads the columns of entryColumns from a row, in its
// store's types, and returns the entry and its seq: scanEntry for SQLite,
// pgScanEntry for PostgreSQL.
type entryScanner func(rowScanner) (Entry, int64, error)

// entryRow holds the columns of entryColumns as both stores scan them but
// for the tags, whose type differs (JSON text in SQLite, a text[] in
// PostgreSQL): the caller gives dest where they go.
type entryRow struct {
	e                Entry
	seq              int64
	meta             string
	created, updated int64
	expires          *int64
}

// dest is where Scan puts the columns of entryColumns, the tags in tags.
func (r *entryRow) dest(tags any) []any {
	return []any{&r.seq, &r.e.ID, &r.e.ConversationID, &r.e.SessionID, &r.e.Content, &r.e.ContextType,
		&r.e.Importance, tags, &r.meta, &r.created, &r.updated, &r.expires}
}

// entry is the entry scanned, r.e.Tags already set: tags never nil,
// metadata decoded, times from milliseconds.
func (r *entryRow) entry() (Entry, int64, error) {
	e := r.e
	if e.Tags == nil {
		e.Tags = []string{}
	}
	var err error
	if e.Metadata, err = decodeObject(r.meta); err != nil {
		return Entry{}, 0, fmt.Errorf("entry %s: metadata: %w", e.ID, err)
	}
	e.CreatedAt, e.UpdatedAt = fromMillis(r.created), fromMillis(r.updated)
	if r.expires != nil {
		e.ExpiresAt = fromMillis(*r.expires)
	}
	return e, r.seq, nil
}

// scanEntry reads the columns of entryColumns from SQLite: tags are JSON
// text.
func scanEntry(sc rowScanner) (Entry, int64, error) {
	var r entryRow
	var tags string
	if err := sc.Scan(r.dest(&tags)...); err != nil {
		return Entry{}, 0, err
	}
	if err := json.Unmarshal([]byte(tags), &r.e.Tags); err != nil {
		return Entry{}, 0, fmt.Errorf("entry %s: tags: %w", r.e.ID, err)
	}
	return r.entry()
}

// pgScanEntry reads the columns of entryColumns from PostgreSQL: tags a
// text[], metadata jsonb (read as its text).
func pgScanEntry(sc rowScanner) (Entry, int64, error) {
	var r entryRow
	if err := sc.Scan(r.dest(&r.e.Tags)...); err != nil {
		return Entry{}, 0, err
	}
	return r.entry()
}

// expiresMillis is e's expiry as the expires_at column holds it: nil for
// never.
func (e Entry) expiresMillis() *int64 {
	if e.ExpiresAt.IsZero() {
		return nil
	}
	ms := e.ExpiresAt.UnixMilli()
	return &ms
}
