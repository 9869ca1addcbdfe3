-- The first schema of the PostgreSQL store: entries, relationships
-- between entries, the full-text index, and the counters the monitor's
-- gauges read. The same data as SQLite's (memory/migrations), in
-- PostgreSQL's terms: tags a text[] with a GIN index, metadata jsonb, the
-- search document a tsvector column. Times are Unix milliseconds, as in
-- SQLite, so that both stores read and page alike.
--
-- Triggers keep the derived data (the counters) right whoever writes.

CREATE EXTENSION IF NOT EXISTS unaccent;

-- English stemming ("migrations" finds "migration") without a stop-word
-- list (SQLite's porter tokenizer drops no word either: "the who" must
-- find what has those words), accents removed ("cafe" finds "café").
CREATE TEXT SEARCH DICTIONARY pbatunnel_stem (TEMPLATE = snowball, Language = english);
CREATE TEXT SEARCH CONFIGURATION pbatunnel_search (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION pbatunnel_search
    ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part
    WITH unaccent, pbatunnel_stem;

CREATE TABLE entries (
    -- seq orders entries created in the same millisecond, as SQLite's rowid.
    seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              text   NOT NULL UNIQUE,
    conversation_id text   NOT NULL DEFAULT '',
    session_id      text   NOT NULL DEFAULT '',
    content         text   NOT NULL,
    context_type    text   NOT NULL DEFAULT 'general',
    importance      double precision NOT NULL DEFAULT 0.5 CHECK (importance BETWEEN 0 AND 1),
    tags            text[] NOT NULL DEFAULT '{}',
    metadata        jsonb  NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at      bigint NOT NULL,
    updated_at      bigint NOT NULL,
    expires_at      bigint, -- NULL: never expires
    -- The search document, kept by a trigger: content weighs D, tags C,
    -- so that a tag match counts twice a content match (ts_rank's default
    -- weights, 0.1 and 0.2; see Postgres.Search).
    document        tsvector NOT NULL DEFAULT ''
);

CREATE INDEX entries_created ON entries (created_at, seq);
CREATE INDEX entries_conversation ON entries (conversation_id, created_at);
CREATE INDEX entries_session ON entries (session_id, created_at);
CREATE INDEX entries_context_type ON entries (context_type, created_at);
CREATE INDEX entries_expires ON entries (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX entries_tags ON entries USING gin (tags);
CREATE INDEX entries_document ON entries USING gin (document);

CREATE FUNCTION pbatunnel_entry_document() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.document := setweight(to_tsvector('pbatunnel_search', NEW.content), 'D')
        || setweight(to_tsvector('pbatunnel_search', array_to_string(NEW.tags, ' ')), 'C');
    RETURN NEW;
END $$;
CREATE TRIGGER entries_document BEFORE INSERT OR UPDATE OF content, tags ON entries
    FOR EACH ROW EXECUTE FUNCTION pbatunnel_entry_document();

CREATE TABLE relationships (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         text   NOT NULL UNIQUE,
    source_id  text   NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
    target_id  text   NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
    type       text   NOT NULL CHECK (type <> ''),
    strength   double precision NOT NULL DEFAULT 1 CHECK (strength BETWEEN 0 AND 1),
    metadata   jsonb  NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    CHECK (source_id <> target_id),
    UNIQUE (source_id, target_id, type)
);
CREATE INDEX relationships_target ON relationships (target_id);

-- One row of counters (see SQLite's). changes moves on every write; the
-- cache uses it to tell this process's writes from others'.
CREATE TABLE store_stats (
    id              integer PRIMARY KEY CHECK (id = 1),
    entries         bigint NOT NULL DEFAULT 0,
    relationships   bigint NOT NULL DEFAULT 0,
    graph_entities  bigint NOT NULL DEFAULT 0,
    graph_relations bigint NOT NULL DEFAULT 0,
    expired_swept   bigint NOT NULL DEFAULT 0,
    changes         bigint NOT NULL DEFAULT 0
);
INSERT INTO store_stats (id) VALUES (1);

-- The counters move once per statement, from the transition tables, not
-- once per row: a statement of many rows (Clear, a sweep's batch) would
-- otherwise leave a version of the one counters row behind per row for
-- the rest of its transaction. A statement that changed no row leaves
-- them alone.
CREATE FUNCTION pbatunnel_count_entries() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    added   bigint := 0;
    removed bigint := 0;
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT count(*) INTO added FROM new_rows;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT count(*) INTO removed FROM old_rows;
    END IF;
    IF added + removed > 0 THEN
        UPDATE store_stats SET entries = entries + added - removed, changes = changes + 1 WHERE id = 1;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER entries_insert AFTER INSERT ON entries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pbatunnel_count_entries();
CREATE TRIGGER entries_update AFTER UPDATE ON entries
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pbatunnel_count_entries();
CREATE TRIGGER entries_delete AFTER DELETE ON entries
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION pbatunnel_count_entries();

CREATE FUNCTION pbatunnel_count_relationships() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    added   bigint := 0;
    removed bigint := 0;
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT count(*) INTO added FROM new_rows;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT count(*) INTO removed FROM old_rows;
    END IF;
    IF added + removed > 0 THEN
        UPDATE store_stats SET relationships = relationships + added - removed, changes = changes + 1 WHERE id = 1;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER relationships_insert AFTER INSERT ON relationships
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pbatunnel_count_relationships();
CREATE TRIGGER relationships_update AFTER UPDATE ON relationships
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pbatunnel_count_relationships();
CREATE TRIGGER relationships_delete AFTER DELETE ON relationships
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION pbatunnel_count_relationships();
