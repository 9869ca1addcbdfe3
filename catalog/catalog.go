// Package catalog keeps the tool catalogue an MCP server offers, as a
// client last listed it, and what it costs an agent: every tool's
// definition (name, description, input schema) goes into the model's
// context in every conversation, called or not.
//
// serve lists its own tools at start; proxy keeps what the upstream's
// tools/list responses carry as they pass. Tokens are counted when the
// catalogue is read, once per change, with the tokens package's
// vocabulary.
package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/tokens"
)

// Tool is one tool of the catalogue.
type Tool struct {
	Name        string
	Description string
	// Tokens are those of the tool's definition as JSON, as a client
	// hands it to a model.
	Tokens int
	// Findings are what its description holds that tool poisoning uses
	// (Scan).
	Findings []Finding
}

// Catalog is the latest tool list seen. Safe for concurrent use; the zero
// value is empty and ready.
type Catalog struct {
	// OnPin, when set, is told of the pin when the first whole list is
	// pinned (not one loaded with LoadPin) and when changes are accepted
	// (Accept), under the catalogue's lock: it must not call the
	// catalogue.
	OnPin func(PinFile)

	mu      sync.Mutex
	defs    []json.RawMessage // each tool's definition, as listed
	listed  time.Time
	counted *counted // nil until read after a change

	// The pin and the drift from it (drift.go).
	pin      map[string]pinned
	pinDefs  map[string]json.RawMessage
	pinnedAt time.Time
	changes  []Change
	drifted  int
	differ   map[string]bool // tools listed now whose definition is not the pinned one
}

type counted struct {
	tools []Tool
	total int
}

// SetJSON replaces the catalogue with the tools of a tools/list result
// ({"tools": [...]}, raw). A result that is not one is ignored and
// reported. A paged list (nextCursor) is taken page by page as it comes:
// the first page replaces, the others add.
func (c *Catalog) SetJSON(result []byte, firstPage bool, at time.Time) error {
	var r struct {
		Tools      []json.RawMessage `json:"tools"`
		NextCursor string            `json:"nextCursor"`
	}
	if err := json.Unmarshal(result, &r); err != nil {
		return fmt.Errorf("tools/list result: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if firstPage {
		c.defs = nil
	}
	for _, d := range r.Tools {
		c.defs = append(c.defs, bytes.Clone(d))
	}
	c.listed, c.counted = at, nil
	if firstPage && r.NextCursor == "" {
		// A whole list in one page: compared with the pin. (A list in
		// pages is not: its pages may come from different moments.)
		c.compareLocked(at)
	}
	return nil
}

// Count returns how many tools the catalogue holds, and whether any list
// was seen at all.
func (c *Catalog) Count() (n int, listed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.defs), !c.listed.IsZero()
}

// Tools returns the catalogue, its tokens in all (the whole tools list,
// as a model is given it) and when it was listed; zero time before any
// list was seen.
func (c *Catalog) Tools() ([]Tool, int, time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counted == nil {
		ct, err := count(c.defs)
		if err != nil {
			return nil, 0, c.listed, err
		}
		c.counted = ct
	}
	return append([]Tool(nil), c.counted.tools...), c.counted.total, c.listed, nil
}

func count(defs []json.RawMessage) (*counted, error) {
	ct := &counted{tools: make([]Tool, 0, len(defs))}
	for _, d := range defs {
		var t struct {
			Name        string `json:"name"`
			Description string `json:"description"`
		}
		if err := json.Unmarshal(d, &t); err != nil {
			return nil, fmt.Errorf("tool definition: %w", err)
		}
		n, err := tokens.Count(string(d))
		if err != nil {
			return nil, err
		}
		ct.tools = append(ct.tools, Tool{Name: t.Name, Description: t.Description, Tokens: n, Findings: Scan(t.Description)})
	}
	list, err := json.Marshal(map[string]any{"tools": defs})
	if err != nil {
		return nil, err
	}
	if ct.total, err = tokens.Count(string(list)); err != nil {
		return nil, err
	}
	return ct, nil
}
