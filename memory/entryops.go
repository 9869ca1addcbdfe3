package memory

// The entry operations as both stores run them: the checks of their
// arguments, the entry returned and the errors' wrapping live here once;
// each store gives the statements (entry.go for SQLite, pgentry.go for
// PostgreSQL). Every function here is called once the store is known to
// be open.

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// storeEntry validates ne and stores it with insert as it is at the time
// now returns, with an id from ids; meta is its metadata as the JSON
// stored.
func storeEntry(ne NewEntry, now func() time.Time, ids *idSource, insert func(e Entry, meta string) error) (Entry, error) {
	e, err := ne.validate()
	if err != nil {
		return Entry{}, err
	}
	meta, err := encodeObject(ne.Metadata)
	if err != nil {
		return Entry{}, err
	}
	// Return what a later Get returns: metadata as JSON decodes it.
	if e.Metadata, err = decodeObject(meta); err != nil {
		return Entry{}, err
	}
	t := now()
	ms := t.UnixMilli()
	e.ID = ids.next(entryPrefix, t)
	e.CreatedAt, e.UpdatedAt = fromMillis(ms), fromMillis(ms)
	if ne.TTL > 0 {
		e.ExpiresAt = fromMillis(ms + ne.TTL.Milliseconds())
	}
	if err := insert(e, meta); err != nil {
		return Entry{}, fmt.Errorf("storing entry: %w", err)
	}
	return e, nil
}

// getEntry returns the live entry id from the cache c when it holds it at
// the time now returns, else from read; sync is the store's syncCache.
func getEntry(ctx context.Context, c *entryCache, sync func(context.Context) (uint64, error), now func() time.Time,
	id string, read func() (Entry, error)) (Entry, error) {
	if err := checkID("id", id); err != nil {
		return Entry{}, err
	}
	v, err := c.through(ctx, sync, id, now(), func() (cached, error) { return read() })
	if err != nil {
		return Entry{}, err
	}
	return v.(Entry), nil
}

// readEntry reads the live entry id with query, which calls its callback
// with the entry's row if there is one, read by scan.
func readEntry(id string, scan entryScanner, query func(func(rowScanner) error) error) (Entry, error) {
	var e Entry
	err := query(func(rows rowScanner) error {
		var err error
		e, _, err = scan(rows)
		return err
	})
	if err != nil {
		return Entry{}, fmt.Errorf("getting entry %s: %w", id, err)
	}
	if e.ID == "" {
		return Entry{}, notFoundf("entry %s not found", id)
	}
	return e, nil
}

// updateEntry validates id and p, and applies p with apply, which takes
// its arguments (see Patch.args).
func updateEntry(id string, p Patch, apply func(args []any) (Entry, error)) (Entry, error) {
	if err := checkID("id", id); err != nil {
		return Entry{}, err
	}
	args, err := p.args()
	if err != nil {
		return Entry{}, err
	}
	e, err := apply(args)
	if err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalid) {
			return Entry{}, err
		}
		return Entry{}, fmt.Errorf("updating entry %s: %w", id, err)
	}
	return e, nil
}

// checkMergedMetadata checks the size of an entry's metadata once a patch
// has been merged into it.
func checkMergedMetadata(n int) error {
	if n > MaxMetadataBytes {
		return invalidf("invalid metadata: %d bytes once merged; at most %d", n, MaxMetadataBytes)
	}
	return nil
}

// deleteEntry validates id and deletes the live entry with del.
func deleteEntry(id string, del func() error) error {
	if err := checkID("id", id); err != nil {
		return err
	}
	err := del()
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("deleting entry %s: %w", id, err)
	}
	return err
}

// deletedEntry ends the write transaction w of Delete, whose statement
// deleted n entries with the given id: none is ErrNotFound.
func deletedEntry(w toucher, id string, n int64) error {
	if n == 0 {
		return notFoundf("entry %s not found", id)
	}
	w.touch(id)
	return nil
}

// clearConversation validates Clear's conversation id and deletes its
// entries with del, which returns how many it deleted.
func clearConversation(conversationID string, del func() (int, error)) (int, error) {
	if conversationID == "" {
		return 0, invalidf("invalid conversation_id: required, to say which conversation to clear")
	}
	if err := checkScopeID("conversation_id", conversationID); err != nil {
		return 0, err
	}
	n, err := del()
	if err != nil {
		return 0, fmt.Errorf("clearing conversation %q: %w", conversationID, err)
	}
	return n, nil
}

// A toucher is a write transaction of either store as the cache sees it:
// it names the cache keys the transaction makes stale.
type toucher interface{ touch(ids ...string) }

// deletedIDs is the callback of a DELETE … RETURNING id run in the write
// transaction w: it counts the rows in *n and touches each id.
func deletedIDs(w toucher, n *int) func(rowScanner) error {
	return func(rows rowScanner) error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		*n++
		w.touch(id)
		return nil
	}
}
