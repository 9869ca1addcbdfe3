-- The knowledge graph (see SQLite's 0002_graph.sql): named, typed
-- entities with an ordered list of observations, and typed relations
-- between entity names, which need not exist. The Go code deletes the
-- relations of a deleted entity, as SQLite's does.
--
-- Search. SQLite looks substrings up in an FTS5 trigram index; here
-- pg_trgm's GIN index answers LIKE '%…%' with the rows that may contain
-- the substring, and LIKE itself decides. The text it searches, search,
-- is folded to lower case by the Go code when it writes the row
-- (strings.ToLower, the folding SearchNodes applies to the query), not by
-- the database's lower(), whose result depends on the database's locale:
-- a match is then the same whatever the locale. pg_trgm's own folding of
-- both sides only narrows the candidates; LIKE on the folded text is
-- exact. search holds the name, the type and each observation joined by
-- the unit separator (U+001F), which no name, type or observation holds
-- and no query crosses, so that a match is always within one of them.
--
-- A trigram index cannot answer a query of one or two characters. grams,
-- also written by the Go code, holds every distinct substring of one or
-- two characters of the same fields, and its GIN index answers those
-- queries exactly (grams @> ARRAY['jo']).
--
-- tokens is the length of the row as FTS5's trigram tokenizer counts it,
-- for the ranking, which reproduces SQLite's BM25 (see pgNodeHits); the
-- counters row keeps the total.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE graph_entities (
    -- seq is the graph's order: entities are listed in the order they
    -- were created. Writers take turns (see Postgres.write), so seq
    -- increases in the order of the commits too, and a page never skips
    -- a row committed after it was read.
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text   NOT NULL UNIQUE,
    entity_type  text   NOT NULL,
    -- In the order they were added.
    observations text[] NOT NULL DEFAULT '{}',
    created_at   bigint NOT NULL,
    updated_at   bigint NOT NULL,
    search       text   NOT NULL,
    grams        text[] NOT NULL,
    tokens       bigint NOT NULL CHECK (tokens >= 0)
);
CREATE INDEX graph_entities_search ON graph_entities USING gin (search gin_trgm_ops);
CREATE INDEX graph_entities_grams ON graph_entities USING gin (grams);

CREATE TABLE graph_relations (
    seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    from_name     text   NOT NULL,
    to_name       text   NOT NULL,
    relation_type text   NOT NULL,
    created_at    bigint NOT NULL,
    -- The reference's identity of a relation; the index also serves
    -- lookups by from_name.
    UNIQUE (from_name, to_name, relation_type)
);
CREATE INDEX graph_relations_to ON graph_relations (to_name);

ALTER TABLE store_stats ADD COLUMN graph_tokens bigint NOT NULL DEFAULT 0;

-- The graph's writes are one statement for many rows (an import of a
-- whole graph, say), so its counters move once per statement, from the
-- transition tables, rather than once per row: every row's update of the
-- one counters row would leave a version of it behind for the rest of
-- the transaction. A statement that changed no row leaves them alone.
CREATE FUNCTION pbatunnel_count_graph_entities() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    added          bigint := 0;
    added_tokens   bigint := 0;
    removed        bigint := 0;
    removed_tokens bigint := 0;
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT count(*), coalesce(sum(tokens), 0) INTO added, added_tokens FROM new_rows;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT count(*), coalesce(sum(tokens), 0) INTO removed, removed_tokens FROM old_rows;
    END IF;
    IF added + removed > 0 THEN
        UPDATE store_stats SET graph_entities = graph_entities + added - removed,
            graph_tokens = graph_tokens + added_tokens - removed_tokens, changes = changes + 1
        WHERE id = 1;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER graph_entities_insert AFTER INSERT ON graph_entities
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pbatunnel_count_graph_entities();
CREATE TRIGGER graph_entities_update AFTER UPDATE ON graph_entities
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pbatunnel_count_graph_entities();
CREATE TRIGGER graph_entities_delete AFTER DELETE ON graph_entities
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION pbatunnel_count_graph_entities();

CREATE FUNCTION pbatunnel_count_graph_relations() RETURNS trigger LANGUAGE plpgsql AS $$
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
        UPDATE store_stats SET graph_relations = graph_relations + added - removed, changes = changes + 1
        WHERE id = 1;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER graph_relations_insert AFTER INSERT ON graph_relations
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pbatunnel_count_graph_relations();
CREATE TRIGGER graph_relations_update AFTER UPDATE ON graph_relations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pbatunnel_count_graph_relations();
CREATE TRIGGER graph_relations_delete AFTER DELETE ON graph_relations
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION pbatunnel_count_graph_relations();
