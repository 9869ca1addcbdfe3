-- Searches of one or two characters, which the trigram index of graph_fts
-- cannot answer (it holds no shorter grams): for each entity, every
-- distinct string of one or two characters within one of its fields (the
-- name, the type, one observation), as written, each as one token (the
-- hex of its UTF-8 bytes; see graph_short.go). The rowid is the entity's
-- seq. No content is kept and no positions (detail = none): an entity is
-- a few bytes per gram. graph_short_grams is a function of the program,
-- so these triggers, and only these, need it to write an entity.
CREATE VIRTUAL TABLE graph_short USING fts5 (
    grams,
    content = '',
    contentless_delete = 1,
    detail = none,
    tokenize = 'ascii'
);

INSERT INTO graph_short (rowid, grams)
SELECT seq, graph_short_grams(name, entity_type, observations) FROM graph_entities;

CREATE TRIGGER graph_entities_short_after_insert AFTER INSERT ON graph_entities BEGIN
    INSERT INTO graph_short (rowid, grams)
    VALUES (new.seq, graph_short_grams(new.name, new.entity_type, new.observations));
END;

CREATE TRIGGER graph_entities_short_after_delete AFTER DELETE ON graph_entities BEGIN
    DELETE FROM graph_short WHERE rowid = old.seq;
END;

CREATE TRIGGER graph_entities_short_after_update AFTER UPDATE OF name, entity_type, observations ON graph_entities BEGIN
    DELETE FROM graph_short WHERE rowid = old.seq;
    INSERT INTO graph_short (rowid, grams)
    VALUES (new.seq, graph_short_grams(new.name, new.entity_type, new.observations));
END;
