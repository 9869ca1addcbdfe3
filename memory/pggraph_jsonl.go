package memory

import (
	"context"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
)

// ExportGraph writes the whole graph to w as JSON lines, entities then
// relations, each in creation order, from one snapshot of the store. It
// returns how many entities and relations it wrote.
func (s *Postgres) ExportGraph(ctx context.Context, w io.Writer) (entities, relations int, err error) {
	if err := s.checkOpen(); err != nil {
		return 0, 0, err
	}
	enc := newGraphEncoder(w)
	err = s.readTx(ctx, func(tx pgx.Tx) error {
		enc.reset()
		err := s.query(ctx, tx, `SELECT seq, name, entity_type, observations FROM graph_entities ORDER BY seq`, nil,
			enc.entityRows(scanPgEntity))
		if err != nil {
			return err
		}
		return s.query(ctx, tx, `SELECT from_name, to_name, relation_type FROM graph_relations ORDER BY seq`, nil,
			enc.relationRows)
	})
	if err == nil {
		err = enc.flush()
	}
	if err != nil {
		return 0, 0, fmt.Errorf("exporting the graph: %w", err)
	}
	return enc.entities, enc.relations, nil
}

// ImportGraph reads a graph in the reference server's file format, or as
// one JSON object with entities and relations, and merges it into the
// store: new entities and relations are created; an entity that exists
// keeps its type and gains the observations it lacked. The import is one
// transaction: a malformed item, named by its position, fails it whole
// and the store is left as it was. It reads the entities the import names
// in one statement, and writes in a few, whatever its size.
func (s *Postgres) ImportGraph(ctx context.Context, r io.Reader) (ImportResult, error) {
	if err := s.checkOpen(); err != nil {
		return ImportResult{}, err
	}
	es, rs, skipped, err := readGraphImport(r)
	if err != nil {
		return ImportResult{}, fmt.Errorf("importing the graph: %w", err)
	}
	names := make([]string, len(es))
	for i, e := range es {
		names[i] = e.Name
	}
	var res ImportResult
	err = s.write(ctx, func(w *pgWriteTx) error {
		lookup, err := s.entitiesForUpdate(ctx, w, names)
		if err != nil {
			return err
		}
		plan, err := planImport(es, skipped, func(name string) (graphEntity, error) {
			e, err := lookup(name)
			if err != nil {
				return graphEntity{}, err
			}
			return *e, nil
		})
		if err != nil {
			return err
		}
		res = plan.res
		if _, err := s.insertEntities(ctx, w, plan.created); err != nil {
			return err
		}
		if err := s.setObservations(ctx, w, plan.changed); err != nil {
			return err
		}
		made, err := s.insertRelations(ctx, w, rs)
		if err != nil {
			return err
		}
		// Those not made existed, or repeat an earlier one: unchanged,
		// as SQLite counts them.
		res.RelationsCreated = len(made)
		res.Unchanged += len(rs) - len(made)
		return nil
	})
	if err != nil {
		return ImportResult{}, fmt.Errorf("importing the graph: %w", err)
	}
	return res, nil
}
