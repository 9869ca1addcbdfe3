package memory

// An enhanced_memory entry: its type and SQLite's statements that store,
// read, update and delete it. The checks of its fields are in fields.go,
// its metadata's JSON in jsonobject.go, both stores' alike.

import (
	"context"
	"encoding/json"
	"strings"
	"time"
)

// Limits on what an entry may hold. They bound the memory one request can
// take and keep one entry from dominating search results by sheer size.
const (
	MaxContentBytes     = 1 << 20  // content, in bytes of UTF-8
	MaxMetadataBytes    = 64 << 10 // metadata, as compact JSON
	MaxTags             = 32       // tags per entry
	MaxTagBytes         = 64       // one tag
	MaxContextTypeBytes = 64
	MaxScopeIDBytes     = 256 // a conversation or session id
	MaxIDBytes          = 128 // an id given to Get, Update, Delete…
	MaxTTL              = 100 * 365 * 24 * time.Hour
)

// Defaults for the fields of a NewEntry left at their zero value.
const (
	DefaultContextType = "general"
	DefaultImportance  = 0.5
)

// An Entry is one memory.
type Entry struct {
	ID             string `json:"id"`
	ConversationID string `json:"conversation_id,omitempty"`
	SessionID      string `json:"session_id,omitempty"`
	Content        string `json:"content"`
	// ContextType is free text that says what kind of memory this is
	// ("general", "decision", "code"…).
	ContextType string  `json:"context_type"`
	Importance  float64 `json:"importance"` // 0 to 1
	// Tags are never nil, so they encode as [] rather than null.
	Tags []string `json:"tags"`
	// Metadata holds what encoding/json decodes a JSON object into:
	// numbers are float64. Never nil.
	Metadata  map[string]any `json:"metadata"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	// ExpiresAt is zero when the entry never expires.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

func (e Entry) expiredAt(now time.Time) bool {
	return !e.ExpiresAt.IsZero() && !now.Before(e.ExpiresAt)
}

// clone returns a copy that shares no slice or map with e.
func (e Entry) clone() Entry {
	e.Tags = append([]string{}, e.Tags...)
	e.Metadata = cloneObject(e.Metadata)
	return e
}

// NewEntry is what Store needs to create an entry. Only Content is
// required.
type NewEntry struct {
	ConversationID string         `json:"conversation_id,omitempty"`
	SessionID      string         `json:"session_id,omitempty"`
	Content        string         `json:"content"`
	ContextType    string         `json:"context_type,omitempty"` // default "general"
	Importance     *float64       `json:"importance,omitempty"`   // 0 to 1; nil: 0.5
	Tags           []string       `json:"tags,omitempty"`
	Metadata       map[string]any `json:"metadata,omitempty"`
	// TTL, when positive, makes the entry expire that long after it is
	// stored. 0: never.
	TTL time.Duration `json:"ttl,omitempty"`
}

// A Patch changes some fields of an entry; nil fields stay as they are.
type Patch struct {
	Content     *string   `json:"content,omitempty"`
	ContextType *string   `json:"context_type,omitempty"`
	Importance  *float64  `json:"importance,omitempty"`
	Tags        *[]string `json:"tags,omitempty"` // replaces all tags
	// Metadata is applied as a JSON Merge Patch (RFC 7396): its keys are
	// set, recursively into nested objects, and a key whose value is nil
	// is removed; keys it does not mention stay. With ReplaceMetadata,
	// Metadata replaces the whole object instead (nil: with {}).
	Metadata        map[string]any `json:"metadata,omitempty"`
	ReplaceMetadata bool           `json:"replace_metadata,omitempty"`
	// TTL, when set, restarts the entry's life: positive, it expires that
	// long from now; 0, it never expires.
	TTL *time.Duration `json:"ttl,omitempty"`
}

// Columns of an entry, in the order scanEntry reads them.
const entryColumns = `seq, id, conversation_id, session_id, content, context_type, importance, tags, metadata, created_at, updated_at, expires_at`

// entryCols is entryColumns qualified with the alias e.
var entryCols = "e." + strings.ReplaceAll(entryColumns, ", ", ", e.")

// liveCond is true for an entry not expired at the time bound to its
// placeholder.
const liveCond = `(e.expires_at IS NULL OR e.expires_at > ?)`

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// Store validates and stores a new entry and returns it as stored.
func (s *SQLite) Store(ctx context.Context, ne NewEntry) (Entry, error) {
	if err := s.checkOpen(); err != nil {
		return Entry{}, err
	}
	return storeEntry(ne, s.now, &s.ids, func(e Entry, meta string) error {
		tags, err := json.Marshal(e.Tags)
		if err != nil {
			return err
		}
		ms := e.CreatedAt.UnixMilli()
		return s.write(ctx, func(w *writeTx) error {
			_, err := s.exec(ctx, w.tx, `INSERT INTO entries
			(id, conversation_id, session_id, content, context_type, importance, tags, metadata, created_at, updated_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				e.ID, e.ConversationID, e.SessionID, e.Content, e.ContextType, e.Importance, string(tags), meta, ms, ms,
				e.expiresMillis())
			return err
		})
	})
}

// validate checks ne and returns the entry it describes, defaults filled
// in, without id, times or metadata.
func (ne NewEntry) validate() (Entry, error) {
	e := Entry{
		ConversationID: ne.ConversationID,
		SessionID:      ne.SessionID,
		Content:        ne.Content,
		ContextType:    strings.TrimSpace(ne.ContextType),
		Importance:     DefaultImportance,
	}
	if err := checkContent(e.Content); err != nil {
		return Entry{}, err
	}
	if err := checkScopeID("conversation_id", e.ConversationID); err != nil {
		return Entry{}, err
	}
	if err := checkScopeID("session_id", e.SessionID); err != nil {
		return Entry{}, err
	}
	if e.ContextType == "" {
		e.ContextType = DefaultContextType
	} else if err := checkLabel("context_type", e.ContextType, MaxContextTypeBytes); err != nil {
		return Entry{}, err
	}
	if ne.Importance != nil {
		if err := checkUnit("importance", *ne.Importance); err != nil {
			return Entry{}, err
		}
		e.Importance = *ne.Importance
	}
	tags, err := normalizeTags(ne.Tags)
	if err != nil {
		return Entry{}, err
	}
	e.Tags = tags
	if err := checkTTL(ne.TTL); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// Get returns the entry with the given id, from the cache when it can.
func (s *SQLite) Get(ctx context.Context, id string) (Entry, error) {
	if err := s.checkOpen(); err != nil {
		return Entry{}, err
	}
	return getEntry(ctx, s.cache, s.syncCache, s.now, id, func() (Entry, error) {
		return s.getEntry(ctx, s.db, id, s.now())
	})
}

// getEntry reads one live entry.
func (s *SQLite) getEntry(ctx context.Context, q queryer, id string, now time.Time) (Entry, error) {
	return readEntry(id, scanEntry, func(scan func(rowScanner) error) error {
		return s.query(ctx, q, `SELECT `+entryCols+` FROM entries e WHERE e.id = ? AND `+liveCond,
			[]any{id, now.UnixMilli()}, scan)
	})
}

// Update applies p to the entry with the given id and returns the result.
func (s *SQLite) Update(ctx context.Context, id string, p Patch) (Entry, error) {
	if err := s.checkOpen(); err != nil {
		return Entry{}, err
	}
	return updateEntry(id, p, func(args []any) (e Entry, err error) {
		now := s.now().UnixMilli()
		err = s.write(ctx, func(w *writeTx) error {
			e = Entry{}
			var metaLen int
			err := s.query(ctx, w.tx, `UPDATE entries SET
				content      = coalesce(?1, content),
				context_type = coalesce(?2, context_type),
				importance   = coalesce(?3, importance),
				tags         = coalesce(?4, tags),
				metadata     = CASE WHEN ?6 THEN coalesce(?5, '{}')
				                    WHEN ?5 IS NULL THEN metadata
				                    ELSE json_patch(metadata, ?5) END,
				expires_at   = CASE ?7 WHEN 0 THEN expires_at WHEN 1 THEN NULL ELSE ?9 + ?8 END,
				updated_at   = ?9
			WHERE id = ?10 AND (expires_at IS NULL OR expires_at > ?9)
			RETURNING `+entryColumns+`, length(metadata)`,
				append(args, now, id), func(rows rowScanner) error {
					var err error
					e, _, err = scanEntry(scanPlus{rows, []any{&metaLen}})
					return err
				})
			if err != nil {
				return err
			}
			if e.ID == "" {
				return notFoundf("entry %s not found", id)
			}
			if err := checkMergedMetadata(metaLen); err != nil {
				return err
			}
			w.touch(id)
			return nil
		})
		return e, err
	})
}

// args validates p and returns the arguments ?1 to ?8 of Update's
// statement.
func (p Patch) args() ([]any, error) {
	if p.Content == nil && p.ContextType == nil && p.Importance == nil && p.Tags == nil &&
		p.Metadata == nil && !p.ReplaceMetadata && p.TTL == nil {
		return nil, invalidf("invalid patch: it changes nothing; set at least one field")
	}
	args := make([]any, 8)
	if p.Content != nil {
		if err := checkContent(*p.Content); err != nil {
			return nil, err
		}
		args[0] = *p.Content
	}
	if p.ContextType != nil {
		ct := strings.TrimSpace(*p.ContextType)
		if ct == "" {
			ct = DefaultContextType
		} else if err := checkLabel("context_type", ct, MaxContextTypeBytes); err != nil {
			return nil, err
		}
		args[1] = ct
	}
	if p.Importance != nil {
		if err := checkUnit("importance", *p.Importance); err != nil {
			return nil, err
		}
		args[2] = *p.Importance
	}
	if p.Tags != nil {
		tags, err := normalizeTags(*p.Tags)
		if err != nil {
			return nil, err
		}
		b, _ := json.Marshal(tags)
		args[3] = string(b)
	}
	if p.Metadata != nil {
		b, err := encodeObject(p.Metadata)
		if err != nil {
			return nil, err
		}
		args[4] = b
	}
	args[5] = p.ReplaceMetadata
	args[6], args[7] = 0, 0 // TTL unchanged
	if p.TTL != nil {
		if err := checkTTL(*p.TTL); err != nil {
			return nil, err
		}
		if *p.TTL == 0 {
			args[6] = 1 // never expires
		} else {
			args[6], args[7] = 2, p.TTL.Milliseconds()
		}
	}
	return args, nil
}

// Delete deletes the entry with the given id and, by cascade, its
// relationships.
func (s *SQLite) Delete(ctx context.Context, id string) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	return deleteEntry(id, func() error {
		now := s.now().UnixMilli()
		return s.write(ctx, func(w *writeTx) error {
			res, err := s.exec(ctx, w.tx, `DELETE FROM entries AS e WHERE e.id = ? AND `+liveCond, id, now)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			return deletedEntry(w, id, n)
		})
	})
}

// Clear deletes every entry of one conversation, expired or not, with
// their relationships, and returns how many entries it deleted.
func (s *SQLite) Clear(ctx context.Context, conversationID string) (int, error) {
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	return clearConversation(conversationID, func() (n int, err error) {
		err = s.write(ctx, func(w *writeTx) error {
			n = 0
			return s.query(ctx, w.tx, `DELETE FROM entries WHERE conversation_id = ? RETURNING id`,
				[]any{conversationID}, deletedIDs(w, &n))
		})
		return n, err
	})
}
