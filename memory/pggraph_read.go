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
	r, err := newGraphPageReader(q)
	if err != nil {
		return GraphPage{}, err
	}
	err = s.readTx(ctx, func(tx pgx.Tx) error {
		r.start()
		cols, scan := `seq, name, entity_type, observations`, scanPgEntity
		if q.NamesOnly {
			cols, scan = `seq, name, entity_type, NULL::text[]`, scanPgEntityName
		}
		err := s.query(ctx, tx, `SELECT `+cols+` FROM graph_entities WHERE seq > $1 ORDER BY seq LIMIT $2`,
			r.entityArgs(), r.entityRows(scan))
		if err != nil {
			return err
		}
		return s.query(ctx, tx, `SELECT seq, from_name, to_name, relation_type FROM graph_relations
			WHERE seq > $1 ORDER BY seq LIMIT $2`, r.relationArgs(), r.relationRows())
	})
	if err != nil {
		return GraphPage{}, fmt.Errorf("reading the graph: %w", err)
	}
	return r.result(), nil
}

// scanPgEntity scans seq, name, entity_type and observations, which are
// never nil (an entity with none encodes as [], not null).
func scanPgEntity(rows rowScanner) (graphEntity, error) {
	e, err := scanPgEntityName(rows)
	if err == nil && e.Observations == nil {
		e.Observations = []string{}
	}
	return e, err
}

// scanPgEntityName scans the same columns when the observations are left
// out (NULL): they stay nil.
func scanPgEntityName(rows rowScanner) (graphEntity, error) {
	var e graphEntity
	err := rows.Scan(&e.seq, &e.Name, &e.EntityType, &e.Observations)
	return e, err
}

// OpenNodes returns the named entities that exist, in creation order, and
// every relation with at least one end among them. Entities come from the
// cache when it holds them.
func (s *Postgres) OpenNodes(ctx context.Context, names []string, namesOnly bool) (Graph, error) {
	if err := s.checkOpen(); err != nil {
		return Graph{}, err
	}
	return openNodes(ctx, s, names, namesOnly)
}

// entitiesByName returns the entities of the given names that exist, in
// creation order, through the cache.
func (s *Postgres) entitiesByName(ctx context.Context, names []string) ([]graphEntity, error) {
	return entitiesThroughCache(ctx, s.cache, s.syncCache, s.now(), names, scanPgEntity, func(missing []string, each func(rowScanner) error) error {
		return s.query(ctx, s.pool, `SELECT seq, name, entity_type, observations FROM graph_entities WHERE name = ANY($1)`,
			[]any{storableNames(missing)}, each)
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
