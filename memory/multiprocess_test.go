package memory_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/memory"
)

// Environment of the child process of TestTwoProcesses.
const (
	childEnv   = "PBATUNNEL_MEMORY_CHILD" // the database path
	childCount = "PBATUNNEL_MEMORY_COUNT"
)

const (
	perProcess = 300 // entries each process writes
	writers    = 4   // goroutines per process
)

// writeEntries stores n entries from several goroutines, relating each to
// the previous one of its goroutine, and returns their ids. Each goroutine
// also writes the knowledge graph: an entity per entry, related to the
// entity "shared", and an observation added to "shared", which both
// processes update at once.
func writeEntries(s memory.Store, who string, n int) ([]string, error) {
	ids, _, err := writeEntriesTimed(s, who, n)
	return ids, err
}

// writeEntriesTimed is writeEntries, also returning the longest that one
// entry's writes took.
func writeEntriesTimed(s memory.Store, who string, n int) ([]string, time.Duration, error) {
	var slowest time.Duration
	if _, err := s.CreateEntities(bg, []memory.Entity{{Name: "shared", EntityType: "test"}}); err != nil {
		return nil, 0, err
	}
	var (
		mu   sync.Mutex
		ids  []string
		errs []error
		wg   sync.WaitGroup
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prev := ""
			for i := w; i < n; i += writers {
				t0 := time.Now()
				e, err := s.Store(bg, memory.NewEntry{
					Content:        fmt.Sprintf("%s writer %d entry %d", who, w, i),
					ConversationID: who,
					Tags:           []string{who},
				})
				if err == nil && prev != "" {
					_, err = s.Relate(bg, memory.NewRelationship{SourceID: prev, TargetID: e.ID, Type: "next"})
				}
				if err == nil && i%10 == 0 { // reads in between, through the cache
					_, err = s.Get(bg, e.ID)
				}
				name := fmt.Sprintf("%s %d", who, i)
				if err == nil {
					_, err = s.CreateEntities(bg, []memory.Entity{{Name: name, EntityType: who}})
				}
				if err == nil {
					_, err = s.CreateRelations(bg, []memory.Relation{{From: name, To: "shared", RelationType: "part_of"}})
				}
				if err == nil {
					_, err = s.AddObservations(bg, []memory.ObservationAddition{{EntityName: "shared", Contents: []string{name}}})
				}
				if err == nil && i%10 == 0 {
					_, err = s.OpenNodes(bg, []string{"shared"}, false)
				}
				mu.Lock()
				slowest = max(slowest, time.Since(t0))
				if err != nil {
					errs = append(errs, err)
				} else {
					ids = append(ids, e.ID)
				}
				mu.Unlock()
				prev = e.ID
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return ids, slowest, fmt.Errorf("%d writes failed, first: %w", len(errs), errs[0])
	}
	return ids, slowest, nil
}

// Two processes write the same file at the same time: nothing is lost,
// nothing fails.
func TestTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second process")
	}
	path := filepath.Join(t.TempDir(), "shared.db")
	s := memory.MustOpenOptions(t, memory.Options{Path: path})

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+path, childCount+"="+strconv.Itoa(perProcess))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() // if the test fails before Wait

	// Start both writers together once the child has opened the store.
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "ready" {
		cmd.Wait()
		t.Fatalf("child did not get ready: %q\n%s", lines.Text(), stderr.String())
	}
	io.WriteString(stdin, "go\n")
	start := time.Now()
	parentIDs, slowest, parentErr := writeEntriesTimed(s, "parent", perProcess)

	var childIDs []string
	for lines.Scan() {
		if id, ok := strings.CutPrefix(lines.Text(), "id "); ok {
			childIDs = append(childIDs, id)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v\n%s", err, stderr.String())
	}
	// The slowest entry shows how long a writer waited for the other
	// process's turn: SQLite hands its write lock to no one in particular.
	t.Logf("%d + %d entries with relationships from two processes in %v; the parent's slowest entry took %v",
		len(parentIDs), len(childIDs), time.Since(start), slowest)
	if parentErr != nil {
		t.Fatalf("parent: %v", parentErr)
	}
	if len(childIDs) != perProcess || len(parentIDs) != perProcess {
		t.Fatalf("child stored %d, parent %d; want %d each", len(childIDs), len(parentIDs), perProcess)
	}

	// Entries and graph entities (one per entry, and "shared"); entry
	// relationships and graph relations (one per entry).
	if n, err := s.EntryCount(bg); err != nil || n != 4*perProcess+1 {
		t.Errorf("EntryCount = %d, %v; want %d", n, err, 4*perProcess+1)
	}
	if n, err := s.RelationshipCount(bg); err != nil || n != 2*(perProcess-writers)+2*perProcess {
		t.Errorf("RelationshipCount = %d, %v; want %d", n, err, 2*(perProcess-writers)+2*perProcess)
	}
	g, err := s.OpenNodes(bg, []string{"shared"}, false)
	if err != nil || len(g.Entities) != 1 {
		t.Fatalf("OpenNodes(shared) = %+v, %v", g, err)
	}
	if got := len(g.Entities[0].Observations); got != 2*perProcess {
		t.Errorf("shared has %d observations; want %d, one from each entry of both processes", got, 2*perProcess)
	}
	if len(g.Relations) != 2*perProcess {
		t.Errorf("shared has %d relations; want %d", len(g.Relations), 2*perProcess)
	}
	for who, want := range map[string][]string{"parent": parentIDs, "child": childIDs} {
		page, err := s.Retrieve(bg, memory.Query{Filter: memory.Filter{ConversationID: who, Tags: []string{who}}, CountTotal: true})
		if err != nil {
			t.Fatal(err)
		}
		if *page.Total != perProcess {
			t.Errorf("%s: %d entries found, want %d", who, *page.Total, perProcess)
		}
		for _, id := range want {
			if _, err := s.Get(bg, id); err != nil {
				t.Errorf("%s entry %s: %v", who, id, err)
			}
		}
		res, err := s.Search(bg, memory.SearchQuery{Text: who + " writer", Limit: 1, Filter: memory.Filter{ConversationID: who}})
		if err != nil || len(res.Hits) != 1 {
			t.Errorf("searching %s's entries: %d hits, %v", who, len(res.Hits), err)
		}
	}
}

// TestHelperProcess is the child of TestTwoProcesses; it does nothing in
// a normal run.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(childEnv)
	if path == "" {
		t.Skip("runs only as the child of TestTwoProcesses")
	}
	n, _ := strconv.Atoi(os.Getenv(childCount))
	s, err := memory.Open(bg, memory.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	ids, err := writeEntries(s, "child", n)
	for _, id := range ids {
		fmt.Println("id", id)
	}
	if err != nil {
		t.Fatal(err)
	}
}
