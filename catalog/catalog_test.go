package catalog

import (
	"testing"
	"time"
)

func TestCatalog(t *testing.T) {
	var c Catalog
	if tools, total, listed, err := c.Tools(); err != nil || len(tools) != 0 || total == 0 && !listed.IsZero() {
		t.Fatalf("empty catalogue: %v %d %v %v", tools, total, listed, err)
	}
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	page1 := `{"tools":[{"name":"search","description":"Find entities.","inputSchema":{"type":"object"}}],"nextCursor":"2"}`
	page2 := `{"tools":[{"name":"read_graph","description":"The whole graph, every entity and relation.","inputSchema":{"type":"object"}}]}`
	if err := c.SetJSON([]byte(page1), true, at); err != nil {
		t.Fatal(err)
	}
	if err := c.SetJSON([]byte(page2), false, at); err != nil {
		t.Fatal(err)
	}
	tools, total, listed, err := c.Tools()
	if err != nil || len(tools) != 2 || !listed.Equal(at) {
		t.Fatalf("%v %v %v", tools, listed, err)
	}
	if tools[0].Name != "search" || tools[0].Description != "Find entities." || tools[0].Tokens <= 0 {
		t.Errorf("first tool %+v", tools[0])
	}
	// The longer definition costs more, and the list about what its tools
	// do together (tokens may merge across the joins).
	if sum := tools[0].Tokens + tools[1].Tokens; tools[1].Tokens <= tools[0].Tokens || total < sum*9/10 || total > sum*11/10 {
		t.Errorf("tokens %d, %d, list %d", tools[0].Tokens, tools[1].Tokens, total)
	}
	// A new first page replaces the catalogue.
	if err := c.SetJSON([]byte(page2), true, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if tools, _, _, _ := c.Tools(); len(tools) != 1 || tools[0].Name != "read_graph" {
		t.Errorf("after a new list: %+v", tools)
	}
	if err := c.SetJSON([]byte(`{"tools":`), true, at); err == nil {
		t.Error("a broken result was taken")
	}
}
