package memory

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"
)

// GraphQuery pages through the whole graph. The zero value reads it all,
// as the reference server's read_graph does.
type GraphQuery struct {
	// Limit bounds the entities, and separately the relations, of a page;
	// 0 means no bound.
	Limit int
	// Cursor is the NextCursor of the previous page.
	Cursor string
	// NamesOnly leaves the observations out.
	NamesOnly bool
}

const cursorGraph = 'g'

// ReadGraph returns the graph, or one page of it: up to Limit entities and
// up to Limit relations, each in creation order, so that every entity and
// every relation comes exactly once over the pages.
func (s *SQLite) ReadGraph(ctx context.Context, q GraphQuery) (GraphPage, error) {
	if err := s.checkOpen(); err != nil {
		return GraphPage{}, err
	}
	r, err := newGraphPageReader(q)
	if err != nil {
		return GraphPage{}, err
	}
	err = s.readTx(ctx, func(tx *sql.Tx) error {
		r.start()
		cols := `seq, name, entity_type, observations`
		if q.NamesOnly {
			cols = `seq, name, entity_type, NULL`
		}
		err := s.query(ctx, tx, `SELECT `+cols+` FROM graph_entities WHERE seq > ? ORDER BY seq LIMIT ?`,
			r.entityArgs(), r.entityRows(scanGraphEntity))
		if err != nil {
			return err
		}
		return s.query(ctx, tx, `SELECT seq, from_name, to_name, relation_type FROM graph_relations WHERE seq > ? ORDER BY seq LIMIT ?`,
			r.relationArgs(), r.relationRows())
	})
	if err != nil {
		return GraphPage{}, fmt.Errorf("reading the graph: %w", err)
	}
	return r.result(), nil
}

// parseGraphQuery checks q and returns where its page starts and how many
// entities, and relations, it holds at most.
func parseGraphQuery(q GraphQuery) (after cursor, limit int64, err error) {
	if q.Limit < 0 {
		return cursor{}, 0, invalidf("invalid limit %d: must be positive, or 0 for everything", q.Limit)
	}
	if q.Cursor != "" {
		if after, err = parseCursor(q.Cursor, 0, cursorGraph); err != nil {
			return cursor{}, 0, err
		}
	}
	limit = int64(q.Limit)
	if limit == 0 {
		limit = math.MaxInt64 - 1
	}
	return after, limit, nil
}

// graphCursor marks the end of a page of ReadGraph: the seq of its last
// entity and of its last relation (those of the cursor it was asked with
// when it had none).
func graphCursor(lastEntity, lastRelation int64) string {
	return cursor{kind: cursorGraph, key: uint64(lastEntity), seq: lastRelation}.String()
}

// A graphEntityScanner reads seq, name, entity_type and observations from
// a row, in its store's types: scanGraphEntity for SQLite, scanPgEntity
// (or scanPgEntityName) for PostgreSQL.
type graphEntityScanner func(rowScanner) (graphEntity, error)

// scanGraphEntity scans seq, name, entity_type and observations (NULL for
// none).
func scanGraphEntity(rows rowScanner) (graphEntity, error) {
	var e graphEntity
	var obs sql.NullString
	if err := rows.Scan(&e.seq, &e.Name, &e.EntityType, &obs); err != nil {
		return e, err
	}
	if obs.Valid {
		var err error
		e.Observations, err = decodeObservations(obs.String)
		return e, err
	}
	return e, nil
}

// OpenNodes returns the named entities that exist, in creation order, and
// every relation with at least one end among them. Entities come from the
// cache when it holds them.
func (s *SQLite) OpenNodes(ctx context.Context, names []string, namesOnly bool) (Graph, error) {
	if err := s.checkOpen(); err != nil {
		return Graph{}, err
	}
	return openNodes(ctx, s, names, namesOnly)
}

// nodeReader is what OpenNodes and SearchNodes read of a backend.
type nodeReader interface {
	// entitiesByName returns the entities of the given names that exist.
	entitiesByName(ctx context.Context, names []string) ([]graphEntity, error)
	// withRelations makes a graph of es and the relations with at least
	// one end among them.
	withRelations(ctx context.Context, es []graphEntity, namesOnly bool) (Graph, error)
}

// openNodes is OpenNodes on any backend, once the store is known open.
func openNodes(ctx context.Context, b nodeReader, names []string, namesOnly bool) (Graph, error) {
	if err := checkCount("names", len(names)); err != nil {
		return Graph{}, err
	}
	es, err := b.entitiesByName(ctx, names)
	if err != nil {
		return Graph{}, fmt.Errorf("opening nodes: %w", err)
	}
	g, err := b.withRelations(ctx, es, namesOnly)
	if err != nil {
		return Graph{}, fmt.Errorf("opening nodes: %w", err)
	}
	return g, nil
}

// entitiesByName returns the entities of the given names that exist, in
// creation order, through the cache.
func (s *SQLite) entitiesByName(ctx context.Context, names []string) ([]graphEntity, error) {
	return entitiesThroughCache(ctx, s.cache, s.syncCache, s.now(), names, scanGraphEntity, func(missing []string, each func(rowScanner) error) error {
		list, _ := json.Marshal(missing)
		return s.query(ctx, s.db, `SELECT seq, name, entity_type, observations FROM graph_entities
			WHERE name IN (SELECT value FROM json_each(?))`, []any{string(list)}, each)
	})
}

// entitiesThroughCache returns the entities of the given names that exist,
// in creation order: from the cache c when it holds them, else from load,
// which runs a statement over the missing ones with each as its row
// callback; scan reads those rows, and what they hold is cached. sync is the store's syncCache, called first; when it
// fails (the change counter cannot be read), the cache is not trusted and
// the database answers, as in Get. A nil c is no cache.
func entitiesThroughCache(ctx context.Context, c *entryCache, sync func(context.Context) (uint64, error), now time.Time,
	names []string, scan graphEntityScanner, load func(missing []string, each func(rowScanner) error) error) ([]graphEntity, error) {
	found := make([]graphEntity, 0, len(names))
	seen := make(map[string]bool, len(names))
	var missing []string
	var epoch uint64
	cached := false
	if c != nil {
		var err error
		epoch, err = sync(ctx)
		cached = err == nil
	}
	for _, name := range names {
		if seen[name] {
			continue
		}
		seen[name] = true
		if cached {
			if v, ok := c.get(graphKey(name), now); ok {
				found = append(found, v.copyOf().(graphEntity))
				continue
			}
		}
		missing = append(missing, name)
	}
	if len(missing) > 0 {
		err := load(missing, func(rows rowScanner) error {
			e, err := scan(rows)
			if err != nil {
				return err
			}
			if cached {
				c.put(graphKey(e.Name), e, epoch)
			}
			found = append(found, e)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.SortFunc(found, func(a, b graphEntity) int { return cmp.Compare(a.seq, b.seq) })
	return found, nil
}

// withRelations makes a graph of es and the relations with at least one
// end among them, as the reference's open_nodes and search_nodes return.
func (s *SQLite) withRelations(ctx context.Context, es []graphEntity, namesOnly bool) (Graph, error) {
	g, names := nodesGraph(es, namesOnly)
	if len(names) == 0 {
		return g, nil
	}
	list, _ := json.Marshal(names)
	err := s.query(ctx, s.db, `WITH n(name) AS (SELECT value FROM json_each(?))
		SELECT from_name, to_name, relation_type FROM graph_relations
		WHERE from_name IN n OR to_name IN n ORDER BY seq`, []any{string(list)}, func(rows rowScanner) error {
		var r Relation
		err := rows.Scan(&r.From, &r.To, &r.RelationType)
		g.Relations = append(g.Relations, r)
		return err
	})
	return g, err
}

// nodesGraph is the graph of es, without relations yet, and their names.
func nodesGraph(es []graphEntity, namesOnly bool) (Graph, []string) {
	g := Graph{Entities: make([]Entity, len(es)), Relations: []Relation{}}
	names := make([]string, len(es))
	for i, e := range es {
		g.Entities[i] = e.Entity
		if namesOnly {
			g.Entities[i].Observations = nil
		}
		names[i] = e.Name
	}
	return g, names
}
