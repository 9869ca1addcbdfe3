package memory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Every graph write is one transaction: a call that fails changes nothing,
// and a call that succeeds is seen whole by every reader, in this process
// or another. Within a call, items apply in order, each seeing the ones
// before it, as the reference server applies them to its in-memory copy.

// CreateEntities creates the entities whose names are not taken and
// returns them; an entity whose name exists, or repeats an earlier one of
// the call, is skipped. Repeated observations of an entity are stored
// once.
func (s *SQLite) CreateEntities(ctx context.Context, es []Entity) ([]Entity, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	if err := checkEntities(es); err != nil {
		return nil, err
	}
	var created []Entity
	err := s.write(ctx, func(w *writeTx) error {
		created = []Entity{}
		now := s.now().UnixMilli()
		for _, e := range es {
			obs, _ := appendNew(nil, e.Observations)
			if obs == nil {
				obs = []string{}
			}
			res, err := s.exec(ctx, w.tx, `INSERT INTO graph_entities (name, entity_type, observations, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
				e.Name, e.EntityType, encodeObservations(obs), now, now)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				created = append(created, Entity{Name: e.Name, EntityType: e.EntityType, Observations: obs})
				w.touch(graphKey(e.Name))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("creating entities: %w", err)
	}
	return created, nil
}

// CreateRelations creates the relations that do not exist and returns
// them; one that exists, or repeats an earlier one of the call, is
// skipped. The entities it names need not exist.
func (s *SQLite) CreateRelations(ctx context.Context, rs []Relation) ([]Relation, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	if err := checkRelations(rs); err != nil {
		return nil, err
	}
	var created []Relation
	err := s.write(ctx, func(w *writeTx) error {
		created = []Relation{}
		now := s.now().UnixMilli()
		for _, r := range rs {
			ok, err := s.insertRelation(ctx, w, r, now)
			if err != nil {
				return err
			}
			if ok {
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

func (s *SQLite) insertRelation(ctx context.Context, w *writeTx, r Relation, now int64) (bool, error) {
	res, err := s.exec(ctx, w.tx, `INSERT INTO graph_relations (from_name, to_name, relation_type, created_at)
		VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, r.From, r.To, r.RelationType, now)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// AddObservations adds to each named entity the contents it does not hold
// yet, and says which it added. An entity that does not exist fails the
// whole call (ErrNotFound), and nothing is added.
func (s *SQLite) AddObservations(ctx context.Context, adds []ObservationAddition) ([]ObservationResult, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	if err := checkAdditions(adds); err != nil {
		return nil, err
	}
	var results []ObservationResult
	err := s.write(ctx, func(w *writeTx) error {
		lookup := memoLookup(func(name string) (graphEntity, error) { return s.entityForUpdate(ctx, w, name) })
		var changed []*graphEntity
		var err error
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

// entityForUpdate reads an entity inside a write transaction.
func (s *SQLite) entityForUpdate(ctx context.Context, w *writeTx, name string) (graphEntity, error) {
	var e graphEntity
	var obs string
	err := s.queryRow(ctx, w.tx, `SELECT seq, name, entity_type, observations FROM graph_entities WHERE name = ?`,
		[]any{name}, &e.seq, &e.Name, &e.EntityType, &obs)
	if errors.Is(err, sql.ErrNoRows) {
		return e, entityNotFound(name)
	}
	if err != nil {
		return e, err
	}
	e.Observations, err = decodeObservations(obs)
	return e, err
}

// setObservations stores the observations of each of es.
func (s *SQLite) setObservations(ctx context.Context, w *writeTx, es []*graphEntity) error {
	now := s.now().UnixMilli()
	for _, e := range es {
		_, err := s.exec(ctx, w.tx, `UPDATE graph_entities SET observations = ?, updated_at = ? WHERE seq = ?`,
			encodeObservations(e.Observations), now, e.seq)
		if err != nil {
			return err
		}
		w.touch(graphKey(e.Name))
	}
	return nil
}

// DeleteEntities deletes the named entities and every relation that names
// one of them, whether or not the entity exists. Names that match nothing
// are not an error.
func (s *SQLite) DeleteEntities(ctx context.Context, names []string) (GraphChanges, error) {
	return s.graphDelete(ctx, "entities", "entityNames", len(names), func(w *writeTx, ch *GraphChanges) error {
		for _, name := range names {
			res, err := s.exec(ctx, w.tx, `DELETE FROM graph_entities WHERE name = ?`, name)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			ch.Entities += int(n)
			w.touch(graphKey(name))
			// Two statements rather than one with OR, so that each uses
			// its index.
			for _, q := range []string{
				`DELETE FROM graph_relations WHERE from_name = ?`,
				`DELETE FROM graph_relations WHERE to_name = ?`,
			} {
				res, err := s.exec(ctx, w.tx, q, name)
				if err != nil {
					return err
				}
				n, _ := res.RowsAffected()
				ch.Relations += int(n)
			}
		}
		return nil
	})
}

// graphDelete runs one of the deletions: field and n are the argument
// checked against MaxGraphItems, what names the deletion in errors.
func (s *SQLite) graphDelete(ctx context.Context, what, field string, n int, fn func(w *writeTx, ch *GraphChanges) error) (GraphChanges, error) {
	if err := s.checkOpen(); err != nil {
		return GraphChanges{}, err
	}
	if err := checkCount(field, n); err != nil {
		return GraphChanges{}, err
	}
	var ch GraphChanges
	err := s.write(ctx, func(w *writeTx) error {
		ch = GraphChanges{} // fn may run again after SQLITE_BUSY
		return fn(w, &ch)
	})
	if err != nil {
		return GraphChanges{}, fmt.Errorf("deleting %s: %w", what, err)
	}
	return ch, nil
}

// DeleteObservations removes the given observations from each named
// entity. Entities or observations that do not exist are not an error.
func (s *SQLite) DeleteObservations(ctx context.Context, dels []ObservationDeletion) (GraphChanges, error) {
	return s.graphDelete(ctx, "observations", "deletions", len(dels), func(w *writeTx, ch *GraphChanges) error {
		lookup := memoLookup(func(name string) (graphEntity, error) { return s.entityForUpdate(ctx, w, name) })
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
func (s *SQLite) DeleteRelations(ctx context.Context, rs []Relation) (GraphChanges, error) {
	return s.graphDelete(ctx, "relations", "relations", len(rs), func(w *writeTx, ch *GraphChanges) error {
		for _, r := range rs {
			res, err := s.exec(ctx, w.tx, `DELETE FROM graph_relations WHERE from_name = ? AND to_name = ? AND relation_type = ?`,
				r.From, r.To, r.RelationType)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			ch.Relations += int(n)
		}
		return nil
	})
}
