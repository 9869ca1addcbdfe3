package memory

// Context's walk from an entry through its relationships, breadth first,
// the same in both stores: each reads, in one snapshot of its database,
// the entry the walk starts from and then the entries one step from each
// frontier (its neighbours).

import (
	"errors"
	"fmt"
)

// contextFanout bounds the relationships read per level, so that a hub
// entry with thousands of links costs a bounded sort.
const contextFanout = 1000

// checkContextArgs checks Context's arguments and returns the depth, its
// default filled in.
func checkContextArgs(id string, depth int) (int, error) {
	if err := checkID("id", id); err != nil {
		return 0, err
	}
	if depth == 0 {
		depth = DefaultContextDepth
	}
	if depth < 1 || depth > MaxContextDepth {
		return 0, invalidf("invalid depth %d: must be between 1 and %d (0 means %d)", depth, MaxContextDepth, DefaultContextDepth)
	}
	return depth, nil
}

// walkContext fills res.Related breadth first from id to depth, asking
// neighbours for the entries one step from the frontier that are not yet
// visited (fn returns false to stop; neighbours says whether it cut the
// list short).
func walkContext(res *ContextResult, id string, depth int, neighbours neighboursFunc) error {
	res.Related = []Related{}
	visited := []string{id}
	frontier := []string{id}
	for d := 1; d <= depth && len(frontier) > 0; d++ {
		var next []string
		seen := map[string]bool{}
		cut, err := neighbours(frontier, visited, func(rel Related) bool {
			if seen[rel.Entry.ID] {
				return true
			}
			if len(res.Related) == MaxRelated {
				res.Truncated = true
				return false
			}
			seen[rel.Entry.ID] = true
			rel.Depth = d
			res.Related = append(res.Related, rel)
			next = append(next, rel.Entry.ID)
			return true
		})
		if err != nil {
			return err
		}
		res.Truncated = res.Truncated || cut
		visited = append(visited, next...)
		frontier = next
	}
	return nil
}

// A neighboursFunc calls fn with the live entries one step from frontier
// and not in visited until fn returns false, and says whether
// contextFanout cut the list short.
type neighboursFunc func(frontier, visited []string, fn func(Related) bool) (bool, error)

// contextResult is Context's answer from the walk's result and error:
// not found as it is, any other error said to be Context's.
func contextResult(id string, res ContextResult, err error) (ContextResult, error) {
	if err == nil {
		return res, nil
	}
	if errors.Is(err, ErrNotFound) {
		return ContextResult{}, err
	}
	return ContextResult{}, fmt.Errorf("getting context of %s: %w", id, err)
}

// neighbourScan reads the rows of a neighbours query: the direction, the
// columns of relationshipColumns, then those of entryColumns, read by
// scan. It calls fn with each until fn returns false, and counts them.
type neighbourScan struct {
	scan entryScanner
	fn   func(Related) bool
	n    int
	stop bool
}

func (ns *neighbourScan) row(rows rowScanner) error {
	ns.n++
	if ns.stop {
		return nil
	}
	var (
		rel              Related
		meta             string
		created, updated int64
	)
	dest := scanRelationship([]any{&rel.Direction}, &rel.Relationship, &meta, &created, &updated)
	e, _, err := ns.scan(scanPrefix{rows, dest})
	if err != nil {
		return err
	}
	if err := finishRelationship(&rel.Relationship, meta, created, updated); err != nil {
		return err
	}
	rel.Entry = e
	ns.stop = !ns.fn(rel)
	return nil
}

// cut reports whether contextFanout cut the rows short: the query
// returned as many as its limit, and fn took them all.
func (ns *neighbourScan) cut() bool { return !ns.stop && ns.n == contextFanout }
