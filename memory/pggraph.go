package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The knowledge graph in PostgreSQL: the same semantics as SQLite's (see
// graph_write.go), each call one transaction through write, which every
// writer of every process takes its turn for; so a read-modify-write of
// an entity's observations, here worked out in Go between one read and
// one write, never loses another writer's change. The statements are
// set-based (one for all the rows of a call, or of a chunk of it), so
// that a call costs a few round trips to the server whatever its size.

// CreateEntities creates the entities whose names are not taken and
// returns them; an entity whose name exists, or repeats an earlier one of
// the call, is skipped. Repeated observations of an entity are stored
// once.
func (s *Postgres) CreateEntities(ctx context.Context, es []Entity) ([]Entity, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	if err := checkEntities(es); err != nil {
		return nil, err
	}
	first := firstEntities(es)
	rows := make([]*graphEntity, len(first))
	for i, e := range first {
		obs, _ := appendNew([]string{}, e.Observations)
		rows[i] = &graphEntity{Entity: Entity{Name: e.Name, EntityType: e.EntityType, Observations: obs}}
	}
	var created []Entity
	err := s.write(ctx, func(w *pgWriteTx) error {
		created = []Entity{}
		made, err := s.insertEntities(ctx, w, rows)
		if err != nil {
			return err
		}
		for _, e := range rows {
			if made[e.Name] {
				created = append(created, e.Entity)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("creating entities: %w", err)
	}
	return created, nil
}

// pgEntityRow is a row of graph_entities as the set-based statements take
// it, in JSON (jsonb_to_recordset), with the search columns worked out.
type pgEntityRow struct {
	Seq          int64    `json:"seq,omitempty"`
	Name         string   `json:"name"`
	EntityType   string   `json:"entity_type"`
	Observations []string `json:"observations"`
	Search       string   `json:"search"`
	Grams        []string `json:"grams"`
	Tokens       int64    `json:"tokens"`
}

func newPgEntityRow(e *graphEntity) pgEntityRow {
	obs := e.Observations
	if obs == nil {
		obs = []string{}
	}
	st := newSearchText(e.Name, e.EntityType, obs)
	return pgEntityRow{Seq: e.seq, Name: e.Name, EntityType: e.EntityType, Observations: obs,
		Search: st.text, Grams: st.grams(), Tokens: st.tokens()}
}

// pgChunkBytes bounds the JSON of one statement: jsonb holds at most
// 256 MiB, and one statement's rows are held in memory on both sides. A
// variable, for the tests.
var pgChunkBytes = 8 << 20

// entityChunks encodes es as JSON arrays of rows of up to about
// pgChunkBytes each (one row alone may be larger), in order.
func entityChunks(es []*graphEntity) ([]json.RawMessage, error) {
	var chunks []json.RawMessage
	buf := []byte{'['}
	for _, e := range es {
		b, err := json.Marshal(newPgEntityRow(e))
		if err != nil {
			return nil, err
		}
		if len(buf) > 1 && len(buf)+len(b) > pgChunkBytes {
			chunks = append(chunks, append(buf, ']'))
			buf = []byte{'['}
		}
		if len(buf) > 1 {
			buf = append(buf, ',')
		}
		buf = append(buf, b...)
	}
	if len(buf) > 1 {
		chunks = append(chunks, append(buf, ']'))
	}
	return chunks, nil
}

// insertEntities inserts es, in order, skipping those whose name exists,
// and says which it inserted.
func (s *Postgres) insertEntities(ctx context.Context, w *pgWriteTx, es []*graphEntity) (map[string]bool, error) {
	chunks, err := entityChunks(es)
	if err != nil {
		return nil, err
	}
	now := s.now().UnixMilli()
	made := make(map[string]bool, len(es))
	for _, chunk := range chunks {
		// WITH ORDINALITY: seq is drawn in the order of the call.
		err := s.query(ctx, w.tx, `INSERT INTO graph_entities
				(name, entity_type, observations, search, grams, tokens, created_at, updated_at)
			SELECT name, entity_type, observations, search, grams, tokens, $2, $2
			FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (name text, entity_type text, observations text[],
				search text, grams text[], tokens bigint)) WITH ORDINALITY
				AS r (name, entity_type, observations, search, grams, tokens, i)
			ORDER BY i
			ON CONFLICT (name) DO NOTHING
			RETURNING name`, []any{chunk, now}, func(rows rowScanner) error {
			var name string
			if err := rows.Scan(&name); err != nil {
				return err
			}
			made[name] = true
			w.touch(graphKey(name))
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return made, nil
}

// CreateRelations creates the relations that do not exist and returns
// them; one that exists, or repeats an earlier one of the call, is
// skipped. The entities it names need not exist.
func (s *Postgres) CreateRelations(ctx context.Context, rs []Relation) ([]Relation, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	if err := checkRelations(rs); err != nil {
		return nil, err
	}
	var created []Relation
	err := s.write(ctx, func(w *pgWriteTx) error {
		made, err := s.insertRelations(ctx, w, rs)
		if err != nil {
			return err
		}
		created = []Relation{}
		for _, r := range firstRelations(rs) {
			if made[r] {
				created = append(created, r)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("creating relations: %w", err)
	}
	return created, nil
}

// pgChunkRows bounds the rows of one statement that takes them as
// arrays. A variable, for the tests.
var pgChunkRows = 10000

// insertRelations inserts rs, in order, skipping those that exist or
// repeat an earlier one, and says which it inserted.
func (s *Postgres) insertRelations(ctx context.Context, w *pgWriteTx, rs []Relation) (map[Relation]bool, error) {
	now := s.now().UnixMilli()
	made := make(map[Relation]bool, len(rs))
	for start := 0; start < len(rs); start += pgChunkRows {
		from, to, typ := relationColumns(rs[start:min(start+pgChunkRows, len(rs))])
		err := s.query(ctx, w.tx, `INSERT INTO graph_relations (from_name, to_name, relation_type, created_at)
			SELECT f, t, r, $4 FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS u (f, t, r, i)
			ORDER BY i
			ON CONFLICT DO NOTHING
			RETURNING from_name, to_name, relation_type`, []any{from, to, typ, now}, func(rows rowScanner) error {
			var r Relation
			err := rows.Scan(&r.From, &r.To, &r.RelationType)
			made[r] = true
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return made, nil
}

func relationColumns(rs []Relation) (from, to, typ []string) {
	from, to, typ = make([]string, len(rs)), make([]string, len(rs)), make([]string, len(rs))
	for i, r := range rs {
		from[i], to[i], typ[i] = r.From, r.To, r.RelationType
	}
	return from, to, typ
}

// AddObservations adds to each named entity the contents it does not hold
// yet, and says which it added. An entity that does not exist fails the
// whole call (ErrNotFound), and nothing is added.
func (s *Postgres) AddObservations(ctx context.Context, adds []ObservationAddition) ([]ObservationResult, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	if err := checkAdditions(adds); err != nil {
		return nil, err
	}
	names := make([]string, len(adds))
	for i, a := range adds {
		names[i] = a.EntityName
	}
	var results []ObservationResult
	err := s.write(ctx, func(w *pgWriteTx) error {
		lookup, err := s.entitiesForUpdate(ctx, w, names)
		if err != nil {
			return err
		}
		var changed []*graphEntity
		if results, changed, err = applyAdditions(adds, lookup); err != nil {
			return err
		}
		return s.setObservations(ctx, w, changed)
	})
	if err != nil {
		return nil, fmt.Errorf("adding observations: %w", err)
	}
	return results, nil
}

// storableNames returns the names that an entity or relation may have:
// not those with NUL or invalid UTF-8, which CreateEntities refuses and
// PostgreSQL cannot take as text. A lookup or deletion of such a name
// finds nothing, as SQLite's does, rather than failing.
func storableNames(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if utf8.ValidString(n) && strings.IndexByte(n, 0) < 0 {
			out = append(out, n)
		}
	}
	return out
}

// storableRelations returns the relations whose every field is storable
// (see storableNames).
func storableRelations(rs []Relation) []Relation {
	out := make([]Relation, 0, len(rs))
	for _, r := range rs {
		if len(storableNames([]string{r.From, r.To, r.RelationType})) == 3 {
			out = append(out, r)
		}
	}
	return out
}

// entitiesForUpdate reads the named entities in one statement, inside a
// write transaction, and returns a lookup over them for applyAdditions,
// applyDeletions and planImport. No row locks: the transaction holds the
// writers' turn (see write), so no one else changes them meanwhile.
func (s *Postgres) entitiesForUpdate(ctx context.Context, w *pgWriteTx, names []string) (entityLookup, error) {
	current := make(map[string]graphEntity, len(names))
	err := s.query(ctx, w.tx, `SELECT seq, name, entity_type, observations FROM graph_entities WHERE name = ANY($1)`,
		[]any{storableNames(names)}, func(rows rowScanner) error {
			e, err := scanPgEntity(rows)
			current[e.Name] = e
			return err
		})
	if err != nil {
		return nil, err
	}
	return memoLookup(func(name string) (graphEntity, error) {
		if e, ok := current[name]; ok {
			return e, nil
		}
		return graphEntity{}, entityNotFound(name)
	}), nil
}

// setObservations stores the observations of each of es, with the search
// columns that follow from them.
func (s *Postgres) setObservations(ctx context.Context, w *pgWriteTx, es []*graphEntity) error {
	chunks, err := entityChunks(es)
	if err != nil {
		return err
	}
	now := s.now().UnixMilli()
	for _, chunk := range chunks {
		_, err := s.exec(ctx, w.tx, `UPDATE graph_entities AS g
			SET observations = r.observations, search = r.search, grams = r.grams, tokens = r.tokens, updated_at = $2
			FROM jsonb_to_recordset($1::jsonb) AS r (seq bigint, observations text[], search text, grams text[], tokens bigint)
			WHERE g.seq = r.seq`, chunk, now)
		if err != nil {
			return err
		}
	}
	for _, e := range es {
		w.touch(graphKey(e.Name))
	}
	return nil
}

// DeleteEntities deletes the named entities and every relation that names
// one of them, whether or not the entity exists. Names that match nothing
// are not an error.
func (s *Postgres) DeleteEntities(ctx context.Context, names []string) (GraphChanges, error) {
	return s.graphDelete(ctx, "entities", "entityNames", len(names), func(w *pgWriteTx, ch *GraphChanges) error {
		names := storableNames(names)
		tag, err := s.exec(ctx, w.tx, `DELETE FROM graph_entities WHERE name = ANY($1)`, names)
		if err != nil {
			return err
		}
		ch.Entities = int(tag.RowsAffected())
		for _, name := range names {
			w.touch(graphKey(name))
		}
		tag, err = s.exec(ctx, w.tx, `DELETE FROM graph_relations WHERE from_name = ANY($1) OR to_name = ANY($1)`, names)
		ch.Relations = int(tag.RowsAffected())
		return err
	})
}

// graphDelete runs one of the deletions: field and n are the argument
// checked against MaxGraphItems, what names the deletion in errors.
func (s *Postgres) graphDelete(ctx context.Context, what, field string, n int, fn func(w *pgWriteTx, ch *GraphChanges) error) (GraphChanges, error) {
	if err := s.checkOpen(); err != nil {
		return GraphChanges{}, err
	}
	if err := checkCount(field, n); err != nil {
		return GraphChanges{}, err
	}
	var ch GraphChanges
	err := s.write(ctx, func(w *pgWriteTx) error {
		ch = GraphChanges{} // fn may run again after a lost race
		return fn(w, &ch)
	})
	if err != nil {
		return GraphChanges{}, fmt.Errorf("deleting %s: %w", what, err)
	}
	return ch, nil
}

// DeleteObservations removes the given observations from each named
// entity. Entities or observations that do not exist are not an error.
func (s *Postgres) DeleteObservations(ctx context.Context, dels []ObservationDeletion) (GraphChanges, error) {
	return s.graphDelete(ctx, "observations", "deletions", len(dels), func(w *pgWriteTx, ch *GraphChanges) error {
		names := make([]string, len(dels))
		for i, d := range dels {
			names[i] = d.EntityName
		}
		lookup, err := s.entitiesForUpdate(ctx, w, names)
		if err != nil {
			return err
		}
		removed, changed, err := applyDeletions(dels, lookup)
		if err != nil {
			return err
		}
		ch.Observations = removed
		return s.setObservations(ctx, w, changed)
	})
}

// DeleteRelations deletes the given relations. Relations that do not
// exist are not an error.
func (s *Postgres) DeleteRelations(ctx context.Context, rs []Relation) (GraphChanges, error) {
	return s.graphDelete(ctx, "relations", "relations", len(rs), func(w *pgWriteTx, ch *GraphChanges) error {
		from, to, typ := relationColumns(storableRelations(rs))
		tag, err := s.exec(ctx, w.tx, `DELETE FROM graph_relations AS g
			USING unnest($1::text[], $2::text[], $3::text[]) AS d (f, t, r)
			WHERE g.from_name = d.f AND g.to_name = d.t AND g.relation_type = d.r`, from, to, typ)
		ch.Relations = int(tag.RowsAffected())
		return err
	})
}
