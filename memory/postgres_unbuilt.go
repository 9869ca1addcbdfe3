package memory

// TEMPORARY: methods of Postgres not written yet. Each is removed as it is
// written; this file goes before the backend is offered.

import (
	"context"
	"errors"
)

var errUnbuilt = errors.New("not built yet")

func (s *Postgres) Store(ctx context.Context, ne NewEntry) (Entry, error) { return Entry{}, errUnbuilt }

func (s *Postgres) Get(ctx context.Context, id string) (Entry, error) { return Entry{}, errUnbuilt }

func (s *Postgres) Update(ctx context.Context, id string, p Patch) (Entry, error) {
	return Entry{}, errUnbuilt
}

func (s *Postgres) Delete(ctx context.Context, id string) error { return errUnbuilt }

func (s *Postgres) Clear(ctx context.Context, conversationID string) (int, error) {
	return 0, errUnbuilt
}

func (s *Postgres) Retrieve(ctx context.Context, q Query) (Page, error) { return Page{}, errUnbuilt }

func (s *Postgres) Search(ctx context.Context, q SearchQuery) (SearchPage, error) {
	return SearchPage{}, errUnbuilt
}

func (s *Postgres) Relate(ctx context.Context, nr NewRelationship) (Relationship, error) {
	return Relationship{}, errUnbuilt
}

func (s *Postgres) Context(ctx context.Context, id string, depth int) (ContextResult, error) {
	return ContextResult{}, errUnbuilt
}

func (s *Postgres) Stats(ctx context.Context) (Stats, error) { return Stats{}, errUnbuilt }
