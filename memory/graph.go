package memory

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// The knowledge graph is the data of the reference memory server's tools
// (create_entities, add_observations, search_nodes…), kept in the same
// file as the entries: named, typed entities, each with an ordered list of
// observations, and typed relations between entity names.
//
// It keeps the reference's semantics (see docs/MEMORY.md for the
// differences): names identify entities; creating an entity or relation
// that exists changes nothing; a relation may name entities that do not
// exist (yet); deleting an entity deletes every relation naming it;
// entities and relations are listed in the order they were created.

// Limits on the graph's strings, in bytes of UTF-8.
const (
	MaxGraphNameBytes   = 1024            // an entity name, a relation endpoint
	MaxGraphTypeBytes   = 256             // an entity type, a relation type
	MaxObservationBytes = MaxContentBytes // one observation
	MaxGraphItems       = 10000           // entities, relations, names… in one call
	observationSep      = "\x1f"          // joins observations in graph_fts
	graphKeyPrefix      = "\x00graph\x00" // cache keys of entities; entry ids never start with NUL
)

// An Entity is a node of the knowledge graph.
type Entity struct {
	Name       string `json:"name"`
	EntityType string `json:"entityType"`
	// Observations are in the order they were added, without repeats.
	// Nil (and left out of JSON) only in a names-only listing.
	Observations []string `json:"observations,omitzero"`
}

// A Relation is a directed, typed edge between two entity names.
type Relation struct {
	From         string `json:"from"`
	To           string `json:"to"`
	RelationType string `json:"relationType"`
}

// A Graph is a set of entities and relations, each in creation order.
// Neither slice is nil, so both encode as arrays.
type Graph struct {
	Entities  []Entity   `json:"entities"`
	Relations []Relation `json:"relations"`
}

// A GraphPage is one page of ReadGraph or SearchNodes. NextCursor, when
// set, asks for the next one.
type GraphPage struct {
	Graph
	NextCursor string `json:"nextCursor,omitempty"`
}

// ObservationAddition asks AddObservations to add Contents to an entity.
type ObservationAddition struct {
	EntityName string   `json:"entityName"`
	Contents   []string `json:"contents"`
}

// ObservationResult says which observations AddObservations added.
type ObservationResult struct {
	EntityName        string   `json:"entityName"`
	AddedObservations []string `json:"addedObservations"`
}

// ObservationDeletion asks DeleteObservations to remove Observations from
// an entity.
type ObservationDeletion struct {
	EntityName   string   `json:"entityName"`
	Observations []string `json:"observations"`
}

// GraphChanges counts what a deletion removed.
type GraphChanges struct {
	Entities     int `json:"entities"`
	Observations int `json:"observations"`
	Relations    int `json:"relations"`
}

// graphEntity is an entity as stored: its seq orders listings. It is the
// cache's value for graphKey(name).
type graphEntity struct {
	seq int64
	Entity
}

func (graphEntity) expiredAt(time.Time) bool { return false }

func (e graphEntity) copyOf() cached {
	if e.Observations != nil {
		e.Observations = append([]string{}, e.Observations...)
	}
	return e
}

func graphKey(name string) string { return graphKeyPrefix + name }

// decodeObservations reads the observations column.
func decodeObservations(s string) ([]string, error) {
	obs := []string{}
	if err := json.Unmarshal([]byte(s), &obs); err != nil {
		return nil, fmt.Errorf("decoding observations: %w", err)
	}
	return obs, nil
}

func encodeObservations(obs []string) string {
	if len(obs) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(obs) // strings always encode
	return string(b)
}

// appendNew appends to obs each of add that is neither in obs nor earlier
// in add, and returns the result and what it appended (never nil).
func appendNew(obs, add []string) (all, added []string) {
	seen := make(map[string]struct{}, len(obs)+len(add))
	for _, o := range obs {
		seen[o] = struct{}{}
	}
	added = []string{}
	for _, a := range add {
		if _, ok := seen[a]; ok {
			continue
		}
		seen[a] = struct{}{}
		obs = append(obs, a)
		added = append(added, a)
	}
	return obs, added
}

// Validation. A name is a short single line; an observation is any text
// but NUL and U+001F, which the index uses as its separator.

func checkGraphName(field, v string) error {
	if v == "" {
		return invalidf("invalid %s: required", field)
	}
	return checkLabel(field, v, MaxGraphNameBytes)
}

func checkEntity(i int, e Entity) error {
	if err := checkGraphName(fmt.Sprintf("entities[%d].name", i), e.Name); err != nil {
		return err
	}
	if err := checkLabel(fmt.Sprintf("entities[%d].entityType", i), e.EntityType, MaxGraphTypeBytes); err != nil {
		return err
	}
	return checkObservations(fmt.Sprintf("entities[%d].observations", i), e.Observations)
}

func checkObservations(field string, obs []string) error {
	for j, o := range obs {
		switch {
		case len(o) > MaxObservationBytes:
			return invalidf("invalid %s[%d]: %d bytes; at most %d", field, j, len(o), MaxObservationBytes)
		case !utf8.ValidString(o):
			return invalidf("invalid %s[%d]: not valid UTF-8", field, j)
		case strings.IndexByte(o, 0) >= 0 || strings.Contains(o, observationSep):
			return invalidf("invalid %s[%d]: contains NUL or U+001F", field, j)
		}
	}
	return nil
}

func checkRelation(i int, r Relation) error {
	if err := checkGraphName(fmt.Sprintf("relations[%d].from", i), r.From); err != nil {
		return err
	}
	if err := checkGraphName(fmt.Sprintf("relations[%d].to", i), r.To); err != nil {
		return err
	}
	if r.RelationType == "" {
		return invalidf("invalid relations[%d].relationType: required", i)
	}
	return checkLabel(fmt.Sprintf("relations[%d].relationType", i), r.RelationType, MaxGraphTypeBytes)
}

func checkCount(field string, n int) error {
	if n > MaxGraphItems {
		return invalidf("invalid %s: %d items; at most %d in one call", field, n, MaxGraphItems)
	}
	return nil
}

// checkEntities checks the argument of CreateEntities.
func checkEntities(es []Entity) error {
	if err := checkCount("entities", len(es)); err != nil {
		return err
	}
	for i, e := range es {
		if err := checkEntity(i, e); err != nil {
			return err
		}
	}
	return nil
}

// checkRelations checks the argument of CreateRelations.
func checkRelations(rs []Relation) error {
	if err := checkCount("relations", len(rs)); err != nil {
		return err
	}
	for i, r := range rs {
		if err := checkRelation(i, r); err != nil {
			return err
		}
	}
	return nil
}

// checkAdditions checks the argument of AddObservations.
func checkAdditions(adds []ObservationAddition) error {
	if err := checkCount("observations", len(adds)); err != nil {
		return err
	}
	for i, a := range adds {
		if err := checkGraphName(fmt.Sprintf("observations[%d].entityName", i), a.EntityName); err != nil {
			return err
		}
		if err := checkObservations(fmt.Sprintf("observations[%d].contents", i), a.Contents); err != nil {
			return err
		}
	}
	return nil
}

// The writes that change observations work out what to write in Go, the
// same for every backend: they read each entity the call names (through
// an entityLookup that reads it once per call), apply the call's items in
// order to those copies, each item seeing the ones before it, and write
// back the entities that changed, once each.

// entityLookup returns the entity of a name as the call has left it so
// far; ErrNotFound (the reference's words) when there is none.
type entityLookup func(name string) (*graphEntity, error)

// memoLookup makes an entityLookup that reads each name once with read
// and hands out the same copy after that, so that the call's items
// accumulate on it.
func memoLookup(read func(name string) (graphEntity, error)) entityLookup {
	seen := map[string]*graphEntity{}
	return func(name string) (*graphEntity, error) {
		if e, ok := seen[name]; ok {
			return e, nil
		}
		e, err := read(name)
		if err != nil {
			return nil, err
		}
		seen[name] = &e
		return &e, nil
	}
}

// entityNotFound is AddObservations' error for a missing entity, in the
// reference server's words, which agents may already match on.
func entityNotFound(name string) error {
	return notFoundf("Entity with name %s not found", name)
}

// applyAdditions applies AddObservations' items in order and returns its
// results and the entities it changed, each once. A missing entity fails
// the whole call.
func applyAdditions(adds []ObservationAddition, lookup entityLookup) ([]ObservationResult, []*graphEntity, error) {
	results := make([]ObservationResult, 0, len(adds))
	changed := newChangeSet()
	for _, a := range adds {
		e, err := lookup(a.EntityName)
		if err != nil {
			return nil, nil, err
		}
		var added []string
		e.Observations, added = appendNew(e.Observations, a.Contents)
		if len(added) > 0 {
			changed.add(e)
		}
		results = append(results, ObservationResult{EntityName: a.EntityName, AddedObservations: added})
	}
	return results, changed.list, nil
}

// applyDeletions applies DeleteObservations' items in order and returns
// how many observations they removed and the entities they changed, each
// once. Entities and observations that do not exist are skipped.
func applyDeletions(dels []ObservationDeletion, lookup entityLookup) (int, []*graphEntity, error) {
	removed := 0
	changed := newChangeSet()
	for _, d := range dels {
		e, err := lookup(d.EntityName)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, nil, err
		}
		drop := make(map[string]struct{}, len(d.Observations))
		for _, o := range d.Observations {
			drop[o] = struct{}{}
		}
		kept := make([]string, 0, len(e.Observations))
		for _, o := range e.Observations {
			if _, ok := drop[o]; !ok {
				kept = append(kept, o)
			}
		}
		if n := len(e.Observations) - len(kept); n > 0 {
			removed += n
			e.Observations = kept
			changed.add(e)
		}
	}
	return removed, changed.list, nil
}

// changeSet lists entities once each, in the order first added.
type changeSet struct {
	seen map[*graphEntity]bool
	list []*graphEntity
}

func newChangeSet() *changeSet { return &changeSet{seen: map[*graphEntity]bool{}} }

func (c *changeSet) add(e *graphEntity) {
	if !c.seen[e] {
		c.seen[e] = true
		c.list = append(c.list, e)
	}
}

// firstEntities returns es without the entities whose name an earlier one
// has: CreateEntities keeps the first.
func firstEntities(es []Entity) []Entity {
	seen := make(map[string]bool, len(es))
	out := make([]Entity, 0, len(es))
	for _, e := range es {
		if !seen[e.Name] {
			seen[e.Name] = true
			out = append(out, e)
		}
	}
	return out
}

// firstRelations returns rs without repeats: CreateRelations keeps the
// first.
func firstRelations(rs []Relation) []Relation {
	seen := make(map[Relation]bool, len(rs))
	out := make([]Relation, 0, len(rs))
	for _, r := range rs {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}
