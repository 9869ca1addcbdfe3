package memory

// TEMPORARY: methods of Postgres not written yet. Each is removed as it is
// written; this file goes before the backend is offered.

import (
	"context"
	"errors"
	"io"
)

var errUnbuilt = errors.New("not built yet")

func (s *Postgres) CreateEntities(ctx context.Context, es []Entity) ([]Entity, error) {
	return nil, errUnbuilt
}

func (s *Postgres) CreateRelations(ctx context.Context, rs []Relation) ([]Relation, error) {
	return nil, errUnbuilt
}

func (s *Postgres) AddObservations(ctx context.Context, adds []ObservationAddition) ([]ObservationResult, error) {
	return nil, errUnbuilt
}

func (s *Postgres) DeleteEntities(ctx context.Context, names []string) (GraphChanges, error) {
	return GraphChanges{}, errUnbuilt
}

func (s *Postgres) DeleteObservations(ctx context.Context, dels []ObservationDeletion) (GraphChanges, error) {
	return GraphChanges{}, errUnbuilt
}

func (s *Postgres) DeleteRelations(ctx context.Context, rs []Relation) (GraphChanges, error) {
	return GraphChanges{}, errUnbuilt
}

func (s *Postgres) ReadGraph(ctx context.Context, q GraphQuery) (GraphPage, error) {
	return GraphPage{}, errUnbuilt
}

func (s *Postgres) OpenNodes(ctx context.Context, names []string, namesOnly bool) (Graph, error) {
	return Graph{}, errUnbuilt
}

func (s *Postgres) SearchNodes(ctx context.Context, q NodeQuery) (GraphPage, error) {
	return GraphPage{}, errUnbuilt
}

func (s *Postgres) ImportGraph(ctx context.Context, r io.Reader) (ImportResult, error) {
	return ImportResult{}, errUnbuilt
}

func (s *Postgres) ExportGraph(ctx context.Context, w io.Writer) (entities, relations int, err error) {
	return 0, 0, errUnbuilt
}
