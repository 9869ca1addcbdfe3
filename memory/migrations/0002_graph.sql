-- The knowledge graph of the reference memory server's tools
-- (create_entities, create_relations, add_observations, …): named, typed
-- entities with an ordered list of observations, and typed relations
-- between entity names.
--
-- Relations name their endpoints rather than referencing rows: as in the
-- reference server, a relation may be created before its entities exist,
-- and deleting an entity deletes the relations that name it (done by the
-- Go code, which also deletes relations naming entities that never
-- existed, as the reference does).

CREATE TABLE graph_entities (
    -- seq is the rowid and the graph's order: entities are listed in the
    -- order they were created, like the lines of the reference's file.
    seq          INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    entity_type  TEXT    NOT NULL,
    -- A JSON array of strings, in the order they were added.
    observations TEXT    NOT NULL DEFAULT '[]' CHECK (json_type(observations) = 'array'),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE graph_relations (
    seq           INTEGER PRIMARY KEY,
    from_name     TEXT    NOT NULL,
    to_name       TEXT    NOT NULL,
    relation_type TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    -- The reference's identity of a relation; the index also serves
    -- lookups by from_name.
    UNIQUE (from_name, to_name, relation_type)
);
CREATE INDEX graph_relations_to ON graph_relations (to_name);

-- Substring search, case-insensitive, as the reference's search_nodes
-- does it, but through an index: the trigram tokenizer answers a phrase
-- query with the rows that contain it as a substring, and ranks them by
-- BM25. observations holds the entity's observations joined by the unit
-- separator (U+001F), which no query crosses, so that a match is always
-- within one observation. The table keeps its own copy of the text,
-- because that column exists in no table.
CREATE VIRTUAL TABLE graph_fts USING fts5 (
    name,
    entity_type,
    observations,
    tokenize = 'trigram'
);

ALTER TABLE store_stats ADD COLUMN graph_entities INTEGER NOT NULL DEFAULT 0;
ALTER TABLE store_stats ADD COLUMN graph_relations INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER graph_entities_after_insert AFTER INSERT ON graph_entities BEGIN
    INSERT INTO graph_fts (rowid, name, entity_type, observations)
    VALUES (new.seq, new.name, new.entity_type,
            (SELECT coalesce(group_concat(value, char(31) ORDER BY key), '') FROM json_each(new.observations)));
    UPDATE store_stats SET graph_entities = graph_entities + 1, changes = changes + 1 WHERE id = 1;
END;

CREATE TRIGGER graph_entities_after_delete AFTER DELETE ON graph_entities BEGIN
    DELETE FROM graph_fts WHERE rowid = old.seq;
    UPDATE store_stats SET graph_entities = graph_entities - 1, changes = changes + 1 WHERE id = 1;
END;

CREATE TRIGGER graph_entities_after_update AFTER UPDATE ON graph_entities BEGIN
    DELETE FROM graph_fts WHERE rowid = old.seq;
    INSERT INTO graph_fts (rowid, name, entity_type, observations)
    VALUES (new.seq, new.name, new.entity_type,
            (SELECT coalesce(group_concat(value, char(31) ORDER BY key), '') FROM json_each(new.observations)));
    UPDATE store_stats SET changes = changes + 1 WHERE id = 1;
END;

CREATE TRIGGER graph_relations_after_insert AFTER INSERT ON graph_relations BEGIN
    UPDATE store_stats SET graph_relations = graph_relations + 1, changes = changes + 1 WHERE id = 1;
END;

CREATE TRIGGER graph_relations_after_delete AFTER DELETE ON graph_relations BEGIN
    UPDATE store_stats SET graph_relations = graph_relations - 1, changes = changes + 1 WHERE id = 1;
END;
