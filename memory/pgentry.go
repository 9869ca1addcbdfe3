package memory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// pgLive is liveCond with a numbered placeholder.
func pgLive(n int) string {
	p := "$" + strconv.Itoa(n)
	return `(e.expires_at IS NULL OR e.expires_at > ` + p + `)`
}

// pgScanEntry reads the columns of entryColumns from PostgreSQL's types:
// tags a text[], metadata jsonb (read as its text), expires_at nullable.
func pgScanEntry(sc rowScanner, extra ...any) (Entry, int64, error) {
	var (
		e                Entry
		seq              int64
		meta             string
		created, updated int64
		expires          *int64
	)
	dest := append([]any{&seq, &e.ID, &e.ConversationID, &e.SessionID, &e.Content, &e.ContextType,
		&e.Importance, &e.Tags, &meta, &created, &updated, &expires}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return Entry{}, 0, err
	}
	if e.Tags == nil {
		e.Tags = []string{}
	}
	var err error
	if e.Metadata, err = decodeObject(meta); err != nil {
		return Entry{}, 0, fmt.Errorf("entry %s: metadata: %w", e.ID, err)
	}
	e.CreatedAt, e.UpdatedAt = fromMillis(created), fromMillis(updated)
	if expires != nil {
		e.ExpiresAt = fromMillis(*expires)
	}
	return e, seq, nil
}

// Store validates and stores a new entry and returns it as stored.
func (s *Postgres) Store(ctx context.Context, ne NewEntry) (Entry, error) {
	if err := s.checkOpen(); err != nil {
		return Entry{}, err
	}
	e, err := ne.validate()
	if err != nil {
		return Entry{}, err
	}
	meta, err := encodeObject(ne.Metadata)
	if err != nil {
		return Entry{}, err
	}
	if e.Metadata, err = decodeObject(meta); err != nil {
		return Entry{}, err
	}
	now := s.now()
	ms := now.UnixMilli()
	e.ID = s.ids.next(entryPrefix, now)
	e.CreatedAt, e.UpdatedAt = fromMillis(ms), fromMillis(ms)
	var expires *int64
	if ne.TTL > 0 {
		exp := ms + ne.TTL.Milliseconds()
		e.ExpiresAt = fromMillis(exp)
		expires = &exp
	}
	err = s.write(ctx, func(w *pgWriteTx) error {
		_, err := s.exec(ctx, w.tx, `INSERT INTO entries
			(id, conversation_id, session_id, content, context_type, importance, tags, metadata, created_at, updated_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $9, $10)`,
			e.ID, e.ConversationID, e.SessionID, e.Content, e.ContextType, e.Importance, e.Tags, meta, ms, expires)
		return err
	})
	if err != nil {
		return Entry{}, fmt.Errorf("storing entry: %w", err)
	}
	return e, nil
}

// Get returns the entry with the given id, from the cache when it can.
func (s *Postgres) Get(ctx context.Context, id string) (Entry, error) {
	if err := s.checkOpen(); err != nil {
		return Entry{}, err
	}
	if err := checkID("id", id); err != nil {
		return Entry{}, err
	}
	v, err := s.cache.through(ctx, s.syncCache, id, s.now(), func() (cached, error) {
		return s.getEntry(ctx, s.pool, id, s.now(), false)
	})
	if err != nil {
		return Entry{}, err
	}
	return v.(Entry), nil
}

// getEntry reads one live entry, locking it for the transaction when
// forUpdate.
func (s *Postgres) getEntry(ctx context.Context, q pgQueryer, id string, now time.Time, forUpdate bool) (Entry, error) {
	stmt := `SELECT ` + entryCols + ` FROM entries e WHERE e.id = $1 AND ` + pgLive(2)
	if forUpdate {
		stmt += ` FOR UPDATE`
	}
	var e Entry
	err := s.query(ctx, q, stmt, []any{id, now.UnixMilli()}, func(rows rowScanner) error {
		var err error
		e, _, err = pgScanEntry(rows)
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

// Update applies p to the entry with the given id and returns the result.
// The metadata's merge patch is applied here, to the row read under its
// lock, as SQLite's json_patch does in its statement (RFC 7396 both).
func (s *Postgres) Update(ctx context.Context, id string, p Patch) (Entry, error) {
	if err := s.checkOpen(); err != nil {
		return Entry{}, err
	}
	if err := checkID("id", id); err != nil {
		return Entry{}, err
	}
	args, err := p.args()
	if err != nil {
		return Entry{}, err
	}
	now := s.now()
	ms := now.UnixMilli()
	var out Entry
	err = s.write(ctx, func(w *pgWriteTx) error {
		e, err := s.getEntry(ctx, w.tx, id, now, true)
		if err != nil {
			return err
		}
		e = p.applyTo(e, args, ms)
		meta, err := json.Marshal(e.Metadata)
		if err != nil {
			return err
		}
		if len(meta) > MaxMetadataBytes {
			return invalidf("invalid metadata: %d bytes once merged; at most %d", len(meta), MaxMetadataBytes)
		}
		var expires *int64
		if !e.ExpiresAt.IsZero() {
			exp := e.ExpiresAt.UnixMilli()
			expires = &exp
		}
		err = s.query(ctx, w.tx, `UPDATE entries SET content = $1, context_type = $2, importance = $3, tags = $4,
				metadata = $5::jsonb, expires_at = $6, updated_at = $7
			WHERE id = $8 RETURNING `+entryColumns,
			[]any{e.Content, e.ContextType, e.Importance, e.Tags, string(meta), expires, ms, id},
			func(rows rowScanner) error {
				var err error
				out, _, err = pgScanEntry(rows)
				return err
			})
		if err != nil {
			return err
		}
		w.touch(id)
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalid) {
			return Entry{}, err
		}
		return Entry{}, fmt.Errorf("updating entry %s: %w", id, err)
	}
	return out, nil
}

// applyTo is e with the patch whose validated arguments are args (see
// Patch.args) applied at ms.
func (p Patch) applyTo(e Entry, args []any, ms int64) Entry {
	if args[0] != nil {
		e.Content = args[0].(string)
	}
	if args[1] != nil {
		e.ContextType = args[1].(string)
	}
	if args[2] != nil {
		e.Importance = args[2].(float64)
	}
	if args[3] != nil {
		_ = json.Unmarshal([]byte(args[3].(string)), &e.Tags) // encoded by args
	}
	switch {
	case p.ReplaceMetadata && args[4] == nil:
		e.Metadata = map[string]any{}
	case p.ReplaceMetadata:
		e.Metadata, _ = decodeObject(args[4].(string))
	case args[4] != nil:
		patch, _ := decodeObject(args[4].(string))
		e.Metadata = mergePatch(e.Metadata, patch)
	}
	switch args[6] {
	case 1:
		e.ExpiresAt = time.Time{}
	case 2:
		e.ExpiresAt = fromMillis(ms + args[7].(int64))
	}
	e.UpdatedAt = fromMillis(ms)
	return e
}

// Delete deletes the entry with the given id and, by cascade, its
// relationships.
func (s *Postgres) Delete(ctx context.Context, id string) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if err := checkID("id", id); err != nil {
		return err
	}
	now := s.now().UnixMilli()
	err := s.write(ctx, func(w *pgWriteTx) error {
		tag, err := s.exec(ctx, w.tx, `DELETE FROM entries AS e WHERE e.id = $1 AND `+pgLive(2), id, now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFoundf("entry %s not found", id)
		}
		w.touch(id)
		return nil
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("deleting entry %s: %w", id, err)
	}
	return err
}

// Clear deletes every entry of one conversation, expired or not, with
// their relationships, and returns how many entries it deleted.
func (s *Postgres) Clear(ctx context.Context, conversationID string) (int, error) {
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	if conversationID == "" {
		return 0, invalidf("invalid conversation_id: required, to say which conversation to clear")
	}
	if err := checkScopeID("conversation_id", conversationID); err != nil {
		return 0, err
	}
	var n int
	err := s.write(ctx, func(w *pgWriteTx) error {
		n = 0
		return s.query(ctx, w.tx, `DELETE FROM entries WHERE conversation_id = $1 RETURNING id`,
			[]any{conversationID}, func(rows rowScanner) error {
				var id string
				if err := rows.Scan(&id); err != nil {
					return err
				}
				n++
				w.touch(id)
				return nil
			})
	})
	if err != nil {
		return 0, fmt.Errorf("clearing conversation %q: %w", conversationID, err)
	}
	return n, nil
}

// pgArgs builds a statement's numbered placeholders as its arguments are
// added.
type pgArgs []any

func (a *pgArgs) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// pgWhere is Filter.where for PostgreSQL, its arguments added to args.
func (f Filter) pgWhere(now int64, args *pgArgs) []string {
	conds := []string{`(e.expires_at IS NULL OR e.expires_at > ` + args.add(now) + `)`}
	if f.ConversationID != "" {
		conds = append(conds, `e.conversation_id = `+args.add(f.ConversationID))
	}
	if f.SessionID != "" {
		conds = append(conds, `e.session_id = `+args.add(f.SessionID))
	}
	if f.ContextType != "" {
		conds = append(conds, `e.context_type = `+args.add(f.ContextType))
	}
	if len(f.Tags) > 0 {
		conds = append(conds, `e.tags @> `+args.add(f.Tags)+`::text[]`)
	}
	if f.MinImportance > 0 {
		conds = append(conds, `e.importance >= `+args.add(f.MinImportance))
	}
	if !f.Since.IsZero() {
		conds = append(conds, `e.created_at >= `+args.add(f.Since.UnixMilli()))
	}
	if !f.Until.IsZero() {
		conds = append(conds, `e.created_at < `+args.add(f.Until.UnixMilli()))
	}
	return conds
}

func pgAnd(conds []string) string { return strings.Join(conds, " AND ") }
