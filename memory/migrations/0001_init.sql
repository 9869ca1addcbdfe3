-- The first schema: entries, their tags, relationships between entries, the
-- full-text index, and the counters the monitor's gauges read.
--
-- Times are Unix milliseconds. JSON columns hold compact JSON text.
-- Triggers, not the Go code, keep the derived tables (entry_tags,
-- entries_fts, store_stats) right, so that they stay right whoever writes:
-- another process, an older binary, or the sqlite3 shell.

CREATE TABLE entries (
    -- seq is the rowid: the full-text index is keyed by it, and it breaks
    -- ties between entries created in the same millisecond.
    seq             INTEGER PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    conversation_id TEXT    NOT NULL DEFAULT '',
    session_id      TEXT    NOT NULL DEFAULT '',
    content         TEXT    NOT NULL,
    context_type    TEXT    NOT NULL DEFAULT 'general',
    importance      REAL    NOT NULL DEFAULT 0.5 CHECK (importance BETWEEN 0 AND 1),
    tags            TEXT    NOT NULL DEFAULT '[]' CHECK (json_type(tags) = 'array'),
    metadata        TEXT    NOT NULL DEFAULT '{}' CHECK (json_type(metadata) = 'object'),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    expires_at      INTEGER -- NULL: never expires
);

-- Every listing is newest first, within a scope or not.
CREATE INDEX entries_created ON entries (created_at);
CREATE INDEX entries_conversation ON entries (conversation_id, created_at);
CREATE INDEX entries_session ON entries (session_id, created_at);
CREATE INDEX entries_context_type ON entries (context_type, created_at);
-- The sweeper looks only at entries that can expire.
CREATE INDEX entries_expires ON entries (expires_at) WHERE expires_at IS NOT NULL;

-- One row per tag of an entry, for filtering by tag through an index
-- rather than by parsing every entry's JSON.
CREATE TABLE entry_tags (
    entry_seq INTEGER NOT NULL REFERENCES entries (seq) ON DELETE CASCADE,
    tag       TEXT    NOT NULL,
    PRIMARY KEY (entry_seq, tag)
) WITHOUT ROWID;
CREATE INDEX entry_tags_tag ON entry_tags (tag);

CREATE TABLE relationships (
    seq        INTEGER PRIMARY KEY,
    id         TEXT    NOT NULL UNIQUE,
    source_id  TEXT    NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
    target_id  TEXT    NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
    type       TEXT    NOT NULL CHECK (type <> ''),
    strength   REAL    NOT NULL DEFAULT 1 CHECK (strength BETWEEN 0 AND 1),
    metadata   TEXT    NOT NULL DEFAULT '{}' CHECK (json_type(metadata) = 'object'),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK (source_id <> target_id),
    -- Relating the same pair with the same type again updates the row.
    -- The index also serves outgoing traversal (source_id first).
    UNIQUE (source_id, target_id, type)
);
-- Incoming traversal, and the cascade when a target entry is deleted.
CREATE INDEX relationships_target ON relationships (target_id);

-- External-content full-text index over the entries' content and tags.
-- porter: "migrations" finds "migration"; remove_diacritics: "cafe" finds
-- "café".
CREATE VIRTUAL TABLE entries_fts USING fts5 (
    content,
    tags,
    content = 'entries',
    content_rowid = 'seq',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

-- One row of counters, so that the gauges read a number instead of
-- counting a large table on every sample. changes moves on every write to
-- entries or relationships; the cache uses it to tell its own process's
-- writes from other processes' (see cache.go).
CREATE TABLE store_stats (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    entries       INTEGER NOT NULL DEFAULT 0,
    relationships INTEGER NOT NULL DEFAULT 0,
    expired_swept INTEGER NOT NULL DEFAULT 0,
    changes       INTEGER NOT NULL DEFAULT 0
);
INSERT INTO store_stats (id) VALUES (1);

CREATE TRIGGER entries_after_insert AFTER INSERT ON entries BEGIN
    INSERT INTO entries_fts (rowid, content, tags) VALUES (new.seq, new.content, new.tags);
    INSERT OR IGNORE INTO entry_tags (entry_seq, tag) SELECT new.seq, value FROM json_each(new.tags);
    UPDATE store_stats SET entries = entries + 1, changes = changes + 1 WHERE id = 1;
END;

-- entry_tags rows go by the foreign key's cascade.
CREATE TRIGGER entries_after_delete AFTER DELETE ON entries BEGIN
    INSERT INTO entries_fts (entries_fts, rowid, content, tags) VALUES ('delete', old.seq, old.content, old.tags);
    UPDATE store_stats SET entries = entries - 1, changes = changes + 1 WHERE id = 1;
END;

CREATE TRIGGER entries_after_update_text AFTER UPDATE OF content, tags ON entries
WHEN old.content IS NOT new.content OR old.tags IS NOT new.tags BEGIN
    INSERT INTO entries_fts (entries_fts, rowid, content, tags) VALUES ('delete', old.seq, old.content, old.tags);
    INSERT INTO entries_fts (rowid, content, tags) VALUES (new.seq, new.content, new.tags);
END;

CREATE TRIGGER entries_after_update_tags AFTER UPDATE OF tags ON entries
WHEN old.tags IS NOT new.tags BEGIN
    DELETE FROM entry_tags WHERE entry_seq = old.seq;
    INSERT OR IGNORE INTO entry_tags (entry_seq, tag) SELECT new.seq, value FROM json_each(new.tags);
END;

CREATE TRIGGER entries_after_update AFTER UPDATE ON entries BEGIN
    UPDATE store_stats SET changes = changes + 1 WHERE id = 1;
END;

CREATE TRIGGER relationships_after_insert AFTER INSERT ON relationships BEGIN
    UPDATE store_stats SET relationships = relationships + 1, changes = changes + 1 WHERE id = 1;
END;

CREATE TRIGGER relationships_after_delete AFTER DELETE ON relationships BEGIN
    UPDATE store_stats SET relationships = relationships - 1, changes = changes + 1 WHERE id = 1;
END;

CREATE TRIGGER relationships_after_update AFTER UPDATE ON relationships BEGIN
    UPDATE store_stats SET changes = changes + 1 WHERE id = 1;
END;
