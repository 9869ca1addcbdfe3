package memory

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// The reference memory server keeps its graph in a file of JSON lines, one
// object per entity or relation, entities first:
//
//	{"type":"entity","name":"Ada","entityType":"person","observations":["wrote the first program"]}
//	{"type":"relation","from":"Ada","to":"Analytical Engine","relationType":"programmed"}
//
// ExportGraph writes that format and ImportGraph reads it, along with a
// whole graph in one JSON object ({"entities":[…],"relations":[…]}, what
// read_graph returns and what older tools saved).

// graphLine is one line of the file. The fields are in the reference's
// order, so that an export of the same graph is the same bytes.
type graphLine struct {
	Type         string    `json:"type"`
	Name         string    `json:"name,omitempty"`
	EntityType   *string   `json:"entityType,omitempty"`
	Observations *[]string `json:"observations,omitempty"`
	From         string    `json:"from,omitempty"`
	To           string    `json:"to,omitempty"`
	RelationType string    `json:"relationType,omitempty"`
}

// ExportGraph writes the whole graph to w as JSON lines, entities then
// relations, each in creation order, from one snapshot of the store. It
// returns how many entities and relations it wrote.
func (s *SQLite) ExportGraph(ctx context.Context, w io.Writer) (entities, relations int, err error) {
	if err := s.checkOpen(); err != nil {
		return 0, 0, err
	}
	enc := newGraphEncoder(w)
	err = s.readTx(ctx, func(tx *sql.Tx) error {
		enc.reset()
		err := s.query(ctx, tx, `SELECT seq, name, entity_type, observations FROM graph_entities ORDER BY seq`, nil,
			enc.entityRows(scanGraphEntity))
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

// graphEncoder writes the lines of an export and counts them.
type graphEncoder struct {
	bw                  *bufio.Writer
	enc                 *json.Encoder
	entities, relations int
}

func newGraphEncoder(w io.Writer) *graphEncoder {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false) // as JSON.stringify writes <, > and &
	return &graphEncoder{bw: bw, enc: enc}
}

// reset starts the counts again, for a read that starts again.
func (g *graphEncoder) reset() { g.entities, g.relations = 0, 0 }

func (g *graphEncoder) entity(e Entity) error {
	if e.Observations == nil {
		e.Observations = []string{} // an array, never null
	}
	g.entities++
	return g.enc.Encode(graphLine{Type: "entity", Name: e.Name, EntityType: &e.EntityType, Observations: &e.Observations})
}

func (g *graphEncoder) relation(r Relation) error {
	g.relations++
	return g.enc.Encode(graphLine{Type: "relation", From: r.From, To: r.To, RelationType: r.RelationType})
}

// entityRows is the row callback of a statement over the entities, whose
// rows scan reads: it writes each.
func (g *graphEncoder) entityRows(scan graphEntityScanner) func(rowScanner) error {
	return func(rows rowScanner) error {
		e, err := scan(rows)
		if err != nil {
			return err
		}
		return g.entity(e.Entity)
	}
}

// relationRows is the row callback of a statement over the relations,
// whose rows are from_name, to_name and relation_type: it writes each.
func (g *graphEncoder) relationRows(rows rowScanner) error {
	var r Relation
	if err := rows.Scan(&r.From, &r.To, &r.RelationType); err != nil {
		return err
	}
	return g.relation(r)
}

func (g *graphEncoder) flush() error { return g.bw.Flush() }

// ImportResult counts what ImportGraph did.
type ImportResult struct {
	// EntitiesCreated are entities that were not in the store.
	EntitiesCreated int `json:"entities_created"`
	// EntitiesMerged are entities that were, and got observations they
	// lacked.
	EntitiesMerged int `json:"entities_merged"`
	// ObservationsAdded counts the observations added to either kind.
	ObservationsAdded int `json:"observations_added"`
	RelationsCreated  int `json:"relations_created"`
	// Unchanged counts the items the store already held whole.
	Unchanged int `json:"unchanged"`
	// Skipped counts lines whose type is neither entity nor relation,
	// which the reference server ignores too.
	Skipped int `json:"skipped"`
}

// ImportGraph reads a graph in the reference server's file format, or as
// one JSON object with entities and relations, and merges it into the
// store: new entities and relations are created; an entity that exists
// keeps its type and gains the observations it lacked. The import is one
// transaction: a malformed item, named by its position, fails it whole
// and the store is left as it was.
func (s *SQLite) ImportGraph(ctx context.Context, r io.Reader) (ImportResult, error) {
	if err := s.checkOpen(); err != nil {
		return ImportResult{}, err
	}
	es, rs, skipped, err := readGraphImport(r)
	if err != nil {
		return ImportResult{}, fmt.Errorf("importing the graph: %w", err)
	}
	var res ImportResult
	err = s.write(ctx, func(w *writeTx) error {
		plan, err := planImport(es, skipped, func(name string) (graphEntity, error) { return s.entityForUpdate(ctx, w, name) })
		if err != nil {
			return err
		}
		res = plan.res
		now := s.now().UnixMilli()
		for _, e := range plan.created {
			_, err := s.exec(ctx, w.tx, `INSERT INTO graph_entities (name, entity_type, observations, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?)`, e.Name, e.EntityType, encodeObservations(e.Observations), now, now)
			if err != nil {
				return err
			}
			w.touch(graphKey(e.Name))
		}
		if err := s.setObservations(ctx, w, plan.changed); err != nil {
			return err
		}
		for _, r := range rs {
			ok, err := s.insertRelation(ctx, w, r, now)
			if err != nil {
				return err
			}
			if ok {
				res.RelationsCreated++
			} else {
				res.Unchanged++
			}
		}
		return nil
	})
	if err != nil {
		return ImportResult{}, fmt.Errorf("importing the graph: %w", err)
	}
	return res, nil
}

// readGraphImport reads an import whole and checks its items; skipped
// counts the lines of other types. An error names the line, or the item.
func readGraphImport(r io.Reader) (es []Entity, rs []Relation, skipped int, err error) {
	// Read whole, so that an error can name its line; the graph is held
	// in memory to be written in one transaction anyway.
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, 0, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		start := dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, nil, 0, invalidf("line %d: %v", lineAt(data, dec.InputOffset()), err)
		}
		skip, err := parseGraphItem(raw, &es, &rs)
		if err != nil {
			return nil, nil, 0, invalidf("line %d: %v", lineAt(data, start), err)
		}
		if skip {
			skipped++
		}
	}
	for i, e := range es {
		if err := checkEntity(i, e); err != nil {
			return nil, nil, 0, err
		}
	}
	for i, r := range rs {
		if err := checkRelation(i, r); err != nil {
			return nil, nil, 0, err
		}
	}
	return es, rs, skipped, nil
}

// importPlan is what an import does to the store's entities, worked out
// in Go, the same for every backend.
type importPlan struct {
	// created are the entities to create, in order, each with all the
	// observations the import gives it.
	created []*graphEntity
	// changed are entities of the store that gained observations.
	changed []*graphEntity
	// res counts the entities and skipped lines; the caller adds the
	// relations.
	res ImportResult
}

// planImport merges es, in order, into the store's entities, which read
// returns (ErrNotFound for none): an entity the store lacks is created,
// one it has, or that an earlier item created, keeps its type and gains
// the observations it lacked.
func planImport(es []Entity, skipped int, read func(name string) (graphEntity, error)) (importPlan, error) {
	p := importPlan{res: ImportResult{Skipped: skipped}}
	byName := make(map[string]*graphEntity, len(es))
	isNew := make(map[*graphEntity]bool)
	changed := newChangeSet()
	for _, e := range es {
		cur, ok := byName[e.Name]
		if !ok {
			old, err := read(e.Name)
			if errors.Is(err, ErrNotFound) {
				obs, _ := appendNew([]string{}, e.Observations)
				n := &graphEntity{Entity: Entity{Name: e.Name, EntityType: e.EntityType, Observations: obs}}
				byName[e.Name], isNew[n] = n, true
				p.created = append(p.created, n)
				p.res.EntitiesCreated++
				p.res.ObservationsAdded += len(obs)
				continue
			}
			if err != nil {
				return importPlan{}, err
			}
			cur = &old
			byName[e.Name] = cur
		}
		all, added := appendNew(cur.Observations, e.Observations)
		if len(added) == 0 {
			p.res.Unchanged++
			continue
		}
		cur.Observations = all
		p.res.EntitiesMerged++
		p.res.ObservationsAdded += len(added)
		if !isNew[cur] {
			changed.add(cur)
		}
	}
	p.changed = changed.list
	return p, nil
}

// lineAt returns the line of the first non-blank byte at or after offset,
// counting from 1.
func lineAt(data []byte, offset int64) int {
	offset = min(offset, int64(len(data)))
	for offset < int64(len(data)) && strings.IndexByte(" \t\r\n", data[offset]) >= 0 {
		offset++
	}
	return 1 + bytes.Count(data[:min(offset, int64(len(data)))], []byte("\n"))
}

// parseGraphItem appends what one JSON value of an import holds.
func parseGraphItem(raw json.RawMessage, es *[]Entity, rs *[]Relation) (skipped bool, err error) {
	var probe struct {
		Type      *string         `json:"type"`
		Entities  json.RawMessage `json:"entities"`
		Relations json.RawMessage `json:"relations"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return false, fmt.Errorf("want a JSON object: %v", err)
	}
	if probe.Type == nil {
		if probe.Entities == nil && probe.Relations == nil {
			return false, errors.New(`neither a line with "type" nor a graph with "entities" and "relations"`)
		}
		var g Graph
		if err := strictUnmarshal(raw, &g); err != nil {
			return false, fmt.Errorf("graph: %v", err)
		}
		*es = append(*es, g.Entities...)
		*rs = append(*rs, g.Relations...)
		return false, nil
	}
	switch *probe.Type {
	case "entity":
		var e struct {
			Type string `json:"type"`
			Entity
		}
		if err := strictUnmarshal(raw, &e); err != nil {
			return false, fmt.Errorf("entity: %v", err)
		}
		*es = append(*es, e.Entity)
	case "relation":
		var r struct {
			Type string `json:"type"`
			Relation
		}
		if err := strictUnmarshal(raw, &r); err != nil {
			return false, fmt.Errorf("relation: %v", err)
		}
		*rs = append(*rs, r.Relation)
	default:
		return true, nil
	}
	return false, nil
}

// strictUnmarshal decodes raw into v, refusing fields v does not have: a
// misspelt "entitytype" must not import as an empty type.
func strictUnmarshal(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
