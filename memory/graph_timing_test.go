package memory_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-pba-tunnel/pbatunnel/memory"
)

// graphFixture opens a new store holding a graph of n entities, as the
// "graph" workload of pbatunnel bench prepares it: three observations
// each, one a topic shared by ten entities, and a chain of relations.
func graphFixture(b *testing.B, n int) memory.Store {
	b.Helper()
	s := memory.MustOpenOptions(b, memory.Options{Path: filepath.Join(b.TempDir(), "g.db")})
	r := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("alpha bridge cache delta engine forest garden harbor island jungle kernel ladder memory network ocean planet")
	sentence := func() string {
		w := make([]string, 8)
		for i := range w {
			w[i] = words[r.IntN(len(words))]
		}
		return strings.Join(w, " ")
	}
	var in bytes.Buffer
	for i := range n {
		fmt.Fprintf(&in, `{"type":"entity","name":"entity-%05d","entityType":"bench","observations":["topic-%05d","%s","%s"]}`+"\n",
			i, i%(n/10), sentence(), sentence())
	}
	for i := range n - 1 {
		fmt.Fprintf(&in, `{"type":"relation","from":"entity-%05d","to":"entity-%05d","relationType":"next"}`+"\n", i, i+1)
	}
	if _, err := s.ImportGraph(bg, &in); err != nil {
		b.Fatal(err)
	}
	// Else the first benchmark that writes pays for moving the import out
	// of the write-ahead log, and its figure is several times the next's.
	if err := s.Checkpoint(bg); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkGraph times each kind of call of the graph workload at 1 000
// and 10 000 entities.
func BenchmarkGraph(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		s := graphFixture(b, n)
		b.Run(fmt.Sprintf("entities=%d/SearchNodes", n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				p, err := s.SearchNodes(bg, memory.NodeQuery{Query: fmt.Sprintf("topic-%05d", i%(n/10))})
				if err != nil || len(p.Entities) != 10 {
					b.Fatalf("%d entities, %v", len(p.Entities), err)
				}
			}
		})
		b.Run(fmt.Sprintf("entities=%d/SearchNodesShort", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.SearchNodes(bg, memory.NodeQuery{Query: "zq"}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("entities=%d/OpenNodes", n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				names := []string{fmt.Sprintf("entity-%05d", i%n), fmt.Sprintf("entity-%05d", (i*7)%n), fmt.Sprintf("entity-%05d", (i*13)%n)}
				if _, err := s.OpenNodes(bg, names, false); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("entities=%d/AddObservations", n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				_, err := s.AddObservations(bg, []memory.ObservationAddition{{EntityName: fmt.Sprintf("entity-%05d", i%n), Contents: []string{fmt.Sprint("note ", i)}}})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("entities=%d/CreateEntities", n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if _, err := s.CreateEntities(bg, []memory.Entity{{Name: fmt.Sprint("new-", i), EntityType: "bench", Observations: []string{"topic-00001"}}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
