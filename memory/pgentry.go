package memory

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// pgLive is liveCond with a numbered placeholder.
func pgLive(n int) string {
	p := "$" + strconv.Itoa(n)
	return `(e.expires_at IS NULL OR e.expires_at > ` + p + `)`
}

// Store validates and stores a new entry and returns it as stored.
func (s *Postgres) Store(ctx context.Context, ne NewEntry) (Entry, error) {
	if err := s.checkOpen(); err != nil {
		return Entry{}, err
	}
	return storeEntry(ne, s.now, &s.ids, func(e Entry, meta string) error {
		return s.write(ctx, func(w *pgWriteTx) error {
			_, err := s.exec(ctx, w.tx, `INSERT INTO entries
			(id, conversation_id, session_id, content, context_type, importance, tags, metadata, created_at, updated_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $9, $10)`,
				e.ID, e.ConversationID, e.SessionID, e.Content, e.ContextType, e.Importance, e.Tags, meta,
				e.CreatedAt.UnixMilli(), e.expiresMillis())
			return err
		})
	})
}

// Get returns the entry with the given id, from the cache when it can.
func (s *Postgres) Get(ctx context.Context, id string) (Entry, error) {
	if err := s.checkOpen(); err != nil {
		return Entry{}, err
	}
	return getEntry(ctx, s.cache, s.syncCache, s.now, id, func() (Entry, error) {
		return s.getEntry(ctx, s.pool, id, s.now(), false)
	})
}

// getEntry reads one live entry, locking it for the transaction when
// forUpdate.
func (s *Postgres) getEntry(ctx context.Context, q pgQueryer, id string, now time.Time, forUpdate bool) (Entry, error) {
	stmt := `SELECT ` + entryCols + ` FROM entries e WHERE e.id = $1 AND ` + pgLive(2)
	if forUpdate {
		stmt += ` FOR UPDATE`
	}
	return readEntry(id, pgScanEntry, func(scan func(rowScanner) error) error {
		return s.query(ctx, q, stmt, []any{id, now.UnixMilli()}, scan)
	})
}

// Update applies p to the entry with the given id and returns the result.
// The metadata's merge patch is applied here, to the row read under its
// lock, as SQLite's json_patch does in its statement (RFC 7396 both).
func (s *Postgres) Update(ctx context.Context, id string, p Patch) (Entry, error) {
	if err := s.checkOpen(); err != nil {
		return Entry{}, err
	}
	return updateEntry(id, p, func(args []any) (out Entry, err error) {
		now := s.now()
		ms := now.UnixMilli()
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
			if err := checkMergedMetadata(len(meta)); err != nil {
				return err
			}
			err = s.query(ctx, w.tx, `UPDATE entries SET content = $1, context_type = $2, importance = $3, tags = $4,
				metadata = $5::jsonb, expires_at = $6, updated_at = $7
			WHERE id = $8 RETURNING `+entryColumns,
				[]any{e.Content, e.ContextType, e.Importance, e.Tags, string(meta), e.expiresMillis(), ms, id},
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
		return out, err
	})
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
	return deleteEntry(id, func() error {
		now := s.now().UnixMilli()
		return s.write(ctx, func(w *pgWriteTx) error {
			tag, err := s.exec(ctx, w.tx, `DELETE FROM entries AS e WHERE e.id = $1 AND `+pgLive(2), id, now)
			if err != nil {
				return err
			}
			return deletedEntry(w, id, tag.RowsAffected())
		})
	})
}

// Clear deletes every entry of one conversation, expired or not, with
// their relationships, and returns how many entries it deleted.
func (s *Postgres) Clear(ctx context.Context, conversationID string) (int, error) {
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	return clearConversation(conversationID, func() (n int, err error) {
		err = s.write(ctx, func(w *pgWriteTx) error {
			n = 0
			return s.query(ctx, w.tx, `DELETE FROM entries WHERE conversation_id = $1 RETURNING id`,
				[]any{conversationID}, deletedIDs(w, &n))
		})
		return n, err
	})
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
