package memory_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/memory"
)

// graphFixture opens a new store holding a graph of n entities, as the
// "graph" workload of pbatunnel bench prepares it: three observations
// each, one a topic shared by ten entities, and a chain of relations.
func graphFixture(b *testing.B, n int) memory.Store {
	b.Helper()
	path := filepath.Join(b.TempDir(), "g.db")
	s := memory.MustOpenOptions(b, memory.Options{Path: path})
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
	start := time.Now()
	if _, err := s.ImportGraph(bg, &in); err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	// Else the first benchmark that writes pays for moving the import out
	// of the write-ahead log, and its figure is several times the next's.
	if err := s.Checkpoint(bg); err != nil {
		b.Fatal(err)
	}
	if fi, err := os.Stat(path); err == nil {
		b.Logf("graph of %d entities imported in %v; file %.2f MB", n, took.Round(time.Millisecond), float64(fi.Size())/1e6)
	}
	return s
}

// shortQueries are searches of one or two characters, which the trigram
// index cannot answer, on the fixture of graphFixture: "zq" is in no
// entity, "99" in about one in thirty-five (names and topics), "e" in
// every one (asked for whole, names only, and for a first page), and the
// words "ke" and "77" together in about one in fifty.
var shortQueries = []struct {
	name string
	q    memory.NodeQuery
}{
	{"none", memory.NodeQuery{Query: "zq"}},
	{"some", memory.NodeQuery{Query: "99"}},
	{"all-page", memory.NodeQuery{Query: "E", Limit: 10}},
	{"all", memory.NodeQuery{Query: "e", NamesOnly: true}},
	{"words", memory.NodeQuery{Query: "ke 77", Match: memory.MatchWords}},
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
		for _, sq := range shortQueries {
			b.Run(fmt.Sprintf("entities=%d/SearchNodesShort/%s", n, sq.name), func(b *testing.B) {
				found := 0
				for b.Loop() {
					p, err := s.SearchNodes(bg, sq.q)
					if err != nil {
						b.Fatal(err)
					}
					found = len(p.Entities)
				}
				b.ReportMetric(float64(found), "entities")
			})
		}
		b.Run(fmt.Sprintf("entities=%d/OpenNodes", n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				names := []string{fmt.Sprintf("entity-%05d", i%n), fmt.Sprintf("entity-%05d", (i*7)%n), fmt.Sprintf("entity-%05d", (i*13)%n)}
				if _, err := s.OpenNodes(bg, names, false); err != nil {
					b.Fatal(err)
				}
			}
		})
		// Every write changes something, on every run of -count (which
		// reruns each sub-benchmark on the same fixture): serial numbers
		// its observations and entities across runs, and DeleteEntities
		// deletes the entities CreateEntities created, oldest first.
		// "written" reports the share of calls that changed the graph.
		serial := 0
		var created []string
		b.Run(fmt.Sprintf("entities=%d/AddObservations", n), func(b *testing.B) {
			written := 0
			for b.Loop() {
				serial++
				res, err := s.AddObservations(bg, []memory.ObservationAddition{{EntityName: fmt.Sprintf("entity-%05d", serial%n), Contents: []string{fmt.Sprint("note ", serial)}}})
				if err != nil {
					b.Fatal(err)
				}
				written += len(res[0].AddedObservations)
			}
			b.ReportMetric(float64(written)/float64(b.N), "written")
		})
		b.Run(fmt.Sprintf("entities=%d/CreateEntities", n), func(b *testing.B) {
			written := 0
			for b.Loop() {
				serial++
				name := fmt.Sprint("new-", serial)
				es, err := s.CreateEntities(bg, []memory.Entity{{Name: name, EntityType: "bench", Observations: []string{"topic-00001"}}})
				if err != nil {
					b.Fatal(err)
				}
				written += len(es)
				created = append(created, name)
			}
			b.ReportMetric(float64(written)/float64(b.N), "written")
		})
		b.Run(fmt.Sprintf("entities=%d/DeleteEntities", n), func(b *testing.B) {
			written := 0
			for b.Loop() {
				name := "none"
				if len(created) > 0 {
					name, created = created[0], created[1:]
				}
				ch, err := s.DeleteEntities(bg, []string{name})
				if err != nil {
					b.Fatal(err)
				}
				written += ch.Entities
			}
			b.ReportMetric(float64(written)/float64(b.N), "written")
		})
	}
}
