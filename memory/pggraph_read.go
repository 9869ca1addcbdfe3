package memory

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ReadGraph returns the graph, or one page of it: up to Limit entities and
// up to Limit relations, each in creation order, so that every entity and
// every relation comes exactly once over the pages. The page is read from
// one snapshot.
func (s *Postgres) ReadGraph(ctx context.Context, q GraphQuery) (GraphPage, error) {
	if err := s.checkOpen(); err != nil {
		return GraphPage{}, err
	}
	after, limit, err := parseGraphQuery(q)
	if err != nil {
		return GraphPage{}, err
	}
	page := GraphPage{Graph: Graph{Entities: []Entity{}, Relations: []Relation{}}}
	var lastEntity, lastRelation int64 = int64(after.key), after.seq
	more := false
	err = s.readTx(ctx, func(tx pgx.Tx) error {
		cols := `seq, name, entity_type, observations`
		if q.NamesOnly {
			cols = `seq, name, entity_type, NULL::text[]`
		}
		n := int64(0)
		err := s.query(ctx, tx, `SELECT `+cols+` FROM graph_entities WHERE seq > $1 ORDER BY seq LIMIT $2`,
			[]any{int64(after.key), limit + 1}, func(rows rowScanner) error {
				if n++; n > limit {
					more = true
					return nil
				}
				e, err := scanPgEntity(rows, q.NamesOnly)
				page.Entities = append(page.Entities, e.Entity)
				lastEntity = e.seq
				return err
			})
		if err != nil {
			return err
		}
		n = 0
		return s.query(ctx, tx, `SELECT seq, from_name, to_name, relation_type FROM graph_relations
			WHERE seq > $1 ORDER BY seq LIMIT $2`, []any{after.seq, limit + 1}, func(rows rowScanner) error {
			if n++; n > limit {
				more = true
				return nil
			}
			var r Relation
			err := rows.Scan(&lastRelation, &r.From, &r.To, &r.RelationType)
			page.Relations = append(page.Relations, r)
			return err
		})
	})
	if err != nil {
		return GraphPage{}, fmt.Errorf("reading the graph: %w", err)
	}
	if more {
		page.NextCursor = graphCursor(lastEntity, lastRelation)
	}
	return page, nil
}

// scanPgEntity scans seq, name, entity_type and observations, which are
// left nil when namesOnly (the column is then NULL), and are never nil
// otherwise (an entity with none encodes as [], not null).
func scanPgEntity(rows rowScanner, namesOnly bool) (graphEntity, error) {
	var e graphEntity
	var obs []string
	if err := rows.Scan(&e.seq, &e.Name, &e.EntityType, &obs); err != nil {
		return e, err
	}
	if !namesOnly && obs == nil {
		obs = []string{}
	}
	e.Observations = obs
	return e, nil
}

// OpenNodes returns the named entities that exist, in creation order, and
// every relation with at least one end among them. Entities come from the
// cache when it holds them.
func (s *Postgres) OpenNodes(ctx context.Context, names []string, namesOnly bool) (Graph, error) {
	if err := s.checkOpen(); err != nil {
		return Graph{}, err
	}
	if err := checkCount("names", len(names)); err != nil {
		return Graph{}, err
	}
	es, err := s.entitiesByName(ctx, names)
	if err != nil {
		return Graph{}, fmt.Errorf("opening nodes: %w", err)
	}
	g, err := s.withRelations(ctx, es, namesOnly)
	if err != nil {
		return Graph{}, fmt.Errorf("opening nodes: %w", err)
	}
	return g, nil
}

// entitiesByName returns the entities of the given names that exist, in
// creation order, through the cache.
func (s *Postgres) entitiesByName(ctx context.Context, names []string) ([]graphEntity, error) {
	return entitiesThroughCache(ctx, s.cache, s.syncCache, s.now(), names, func(missing []string, found func(graphEntity)) error {
		return s.query(ctx, s.pool, `SELECT seq, name, entity_type, observations FROM graph_entities WHERE name = ANY($1)`,
			[]any{storableNames(missing)}, func(rows rowScanner) error {
				e, err := scanPgEntity(rows, false)
				if err != nil {
					return err
				}
				found(e)
				return nil
			})
	})
}

// withRelations makes a graph of es and the relations with at least one
// end among them, as the reference's open_nodes and search_nodes return.
func (s *Postgres) withRelations(ctx context.Context, es []graphEntity, namesOnly bool) (Graph, error) {
	g, names := nodesGraph(es, namesOnly)
	if len(names) == 0 {
		return g, nil
	}
	// Each arm of the OR is served by its own index (a bitmap OR).
	err := s.query(ctx, s.pool, `SELECT from_name, to_name, relation_type FROM graph_relations
		WHERE from_name = ANY($1) OR to_name = ANY($1) ORDER BY seq`, []any{names}, func(rows rowScanner) error {
		var r Relation
		err := rows.Scan(&r.From, &r.To, &r.RelationType)
		g.Relations = append(g.Relations, r)
		return err
	})
	return g, err
}
