package memory

// graphPageReader reads one page of ReadGraph from two statements of its
// store, one over the entities and one over the relations, each in
// creation order after the cursor and asking for one row more than the
// limit: that row is not read, but says that there is a next page. The
// statements and the scan of an entity are each store's; the rows, the
// page and its cursor are the same.
type graphPageReader struct {
	after                    cursor
	limit                    int64
	page                     GraphPage
	lastEntity, lastRelation int64 // the seqs the next page starts after
	more                     bool
}

// newGraphPageReader checks q and returns the reader of its page.
func newGraphPageReader(q GraphQuery) (*graphPageReader, error) {
	after, limit, err := parseGraphQuery(q)
	if err != nil {
		return nil, err
	}
	r := &graphPageReader{after: after, limit: limit}
	r.start()
	return r, nil
}

// start empties the page, for a read that starts (again).
func (r *graphPageReader) start() {
	r.page = GraphPage{Graph: Graph{Entities: []Entity{}, Relations: []Relation{}}}
	r.lastEntity, r.lastRelation = int64(r.after.key), r.after.seq
	r.more = false
}

// entityArgs are the arguments of the entities' statement: the seq they
// come after and how many rows to return.
func (r *graphPageReader) entityArgs() []any { return []any{int64(r.after.key), r.limit + 1} }

// relationArgs are those of the relations' statement.
func (r *graphPageReader) relationArgs() []any { return []any{r.after.seq, r.limit + 1} }

// entityRows is the row callback of the entities' statement, whose rows
// scan reads.
func (r *graphPageReader) entityRows(scan graphEntityScanner) func(rowScanner) error {
	return func(rows rowScanner) error {
		if int64(len(r.page.Entities)) == r.limit {
			r.more = true
			return nil
		}
		e, err := scan(rows)
		if err != nil {
			return err
		}
		r.page.Entities = append(r.page.Entities, e.Entity)
		r.lastEntity = e.seq
		return nil
	}
}

// relationRows is the row callback of the relations' statement, whose
// rows are seq, from_name, to_name and relation_type.
func (r *graphPageReader) relationRows() func(rowScanner) error {
	return func(rows rowScanner) error {
		if int64(len(r.page.Relations)) == r.limit {
			r.more = true
			return nil
		}
		var rel Relation
		var seq int64
		if err := rows.Scan(&seq, &rel.From, &rel.To, &rel.RelationType); err != nil {
			return err
		}
		r.page.Relations = append(r.page.Relations, rel)
		r.lastRelation = seq
		return nil
	}
}

// result is the page read, with its NextCursor when there is more.
func (r *graphPageReader) result() GraphPage {
	if r.more {
		r.page.NextCursor = graphCursor(r.lastEntity, r.lastRelation)
	}
	return r.page
}
