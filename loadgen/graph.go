package loadgen

import (
	"fmt"
	"math/rand/v2"
)

// A Preparer is a workload that needs data in place before it is measured.
// Run makes each of Prepare's calls once, in order, on one session, before
// the warm-up; a failed call fails the run.
type Preparer interface {
	Prepare() []Call
}

// DefaultGraphEntities is the size of the graph the "graph" workload
// prepares when not told otherwise.
const DefaultGraphEntities = 1000

// graphBatch is how many entities, or relations, one preparing call
// creates.
const graphBatch = 100

// GraphWorkload is the knowledge-graph workload of the reference memory
// server's tools, which pbatunnel serves too: it prepares a graph of
// entities (entity-00000, entity-00001…), each with three observations, one
// of them a topic shared by about ten entities, and a chain of relations
// between them; then it mixes, in equal parts, create_entities (one new
// entity), add_observations (to an existing entity), search_nodes (a
// topic: about ten matches whatever the graph's size) and open_nodes
// (three existing entities).
func GraphWorkload(entities int) (Workload, error) {
	if entities < 10 {
		return nil, fmt.Errorf("graph workload: want at least 10 entities, got %d", entities)
	}
	return graphWorkload{entities: entities, topics: entities / 10}, nil
}

type graphWorkload struct{ entities, topics int }

func (g graphWorkload) Name() string { return fmt.Sprintf("graph (%d entities)", g.entities) }

func entityName(i int) string { return fmt.Sprintf("entity-%05d", i) }
func topicName(i int) string  { return fmt.Sprintf("topic-%05d", i) }

func (g graphWorkload) Prepare() []Call {
	r := rand.New(rand.NewPCG(1, 2)) // the same graph every time
	var calls []Call
	for start := 0; start < g.entities; start += graphBatch {
		var es []any
		for i := start; i < min(start+graphBatch, g.entities); i++ {
			es = append(es, map[string]any{
				"name":         entityName(i),
				"entityType":   "bench",
				"observations": []any{topicName(i % g.topics), randomWords(r, 8), randomWords(r, 8)},
			})
		}
		calls = append(calls, Call{Tool: "create_entities", Args: map[string]any{"entities": es}})
	}
	for start := 0; start < g.entities-1; start += graphBatch {
		var rs []any
		for i := start; i < min(start+graphBatch, g.entities-1); i++ {
			rs = append(rs, map[string]any{"from": entityName(i), "to": entityName(i + 1), "relationType": "next"})
		}
		calls = append(calls, Call{Tool: "create_relations", Args: map[string]any{"relations": rs}})
	}
	return calls
}

func (g graphWorkload) Next(v Vars) Call {
	switch v.N % 4 {
	case 0:
		// The random part keeps names apart between the warm-up and the
		// measured calls, whose counters both start at 1.
		return Call{Tool: "create_entities", Args: map[string]any{"entities": []any{map[string]any{
			"name":         fmt.Sprintf("new-%d-%08x", v.N, v.Rand.Uint32()),
			"entityType":   "bench",
			"observations": []any{topicName(v.Rand.IntN(g.topics)), randomWords(v.Rand, 8)},
		}}}}
	case 1:
		return Call{Tool: "add_observations", Args: map[string]any{"observations": []any{map[string]any{
			"entityName": entityName(v.Rand.IntN(g.entities)),
			"contents":   []any{fmt.Sprintf("%s %d", randomWords(v.Rand, 6), v.N)},
		}}}}
	case 2:
		return Call{Tool: "search_nodes", Args: map[string]any{"query": topicName(v.Rand.IntN(g.topics))}}
	}
	return Call{Tool: "open_nodes", Args: map[string]any{"names": []any{
		entityName(v.Rand.IntN(g.entities)), entityName(v.Rand.IntN(g.entities)), entityName(v.Rand.IntN(g.entities)),
	}}}
}
