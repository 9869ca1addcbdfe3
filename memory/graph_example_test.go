package memory_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/mcp-pba-tunnel/pbatunnel/memory"
)

func ExampleStore_SearchNodes() {
	dir, err := os.MkdirTemp("", "graph-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	s, err := memory.Open(ctx, memory.Options{Path: filepath.Join(dir, "memory.db")})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	// A graph in the reference memory server's file format.
	_, err = s.ImportGraph(ctx, strings.NewReader(`
{"type":"entity","name":"Ada Lovelace","entityType":"person","observations":["wrote the first program"]}
{"type":"entity","name":"Analytical Engine","entityType":"machine","observations":["programmed by Ada"]}
{"type":"relation","from":"Ada Lovelace","to":"Analytical Engine","relationType":"programmed"}
`))
	if err != nil {
		log.Fatal(err)
	}

	// Case-insensitive substring, best first: a name match ranks above an
	// observation's.
	page, err := s.SearchNodes(ctx, memory.NodeQuery{Query: "ADA"})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range page.Entities {
		fmt.Println(e.Name, e.Observations)
	}
	for _, r := range page.Relations {
		fmt.Println(r.From, "-", r.RelationType, "->", r.To)
	}
	// Output:
	// Ada Lovelace [wrote the first program]
	// Analytical Engine [programmed by Ada]
	// Ada Lovelace - programmed -> Analytical Engine
}
