package memory_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/mcp-pba-tunnel/pbatunnel/memory"
)

func Example() {
	dir, err := os.MkdirTemp("", "memory-example")
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

	decision, err := s.Store(ctx, memory.NewEntry{
		ConversationID: "conv-42",
		Content:        "We chose SQLite with WAL for the memory store: one file, no server.",
		ContextType:    "decision",
		Tags:           []string{"storage"},
	})
	if err != nil {
		log.Fatal(err)
	}
	followUp, err := s.Store(ctx, memory.NewEntry{
		ConversationID: "conv-42",
		Content:        "Benchmark the store at 100k entries before the release.",
		ContextType:    "task",
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := s.Relate(ctx, memory.NewRelationship{SourceID: followUp.ID, TargetID: decision.ID, Type: "follows_from"}); err != nil {
		log.Fatal(err)
	}

	found, err := s.Search(ctx, memory.SearchQuery{Text: "sqlite storage"})
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range found.Hits {
		fmt.Println("found:", h.Snippet)
	}

	around, err := s.Context(ctx, decision.ID, 1)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range around.Related {
		fmt.Printf("%s %s: %s\n", r.Direction, r.Relationship.Type, r.Entry.Content)
	}

	_, err = s.Store(ctx, memory.NewEntry{Content: "x", Importance: ptr(1.5)})
	fmt.Println(errors.Is(err, memory.ErrInvalid), err)
	// Output:
	// found: We chose **SQLite** with WAL for the memory store: one file, no server.
	// in follows_from: Benchmark the store at 100k entries before the release.
	// true invalid importance 1.5: must be between 0 and 1
}
