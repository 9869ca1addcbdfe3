package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Drift: the catalogue pins each tool's definition the first time a
// complete list is seen, and compares every later list with it. A server
// whose tools change under an agent (a description that now tells the
// model to do something else, a schema that now asks for more) is what
// the pin is for: the changes are kept, and counted while they last.

// maxChanges bounds the changes kept, the oldest dropped first.
const maxChanges = 100

// Kinds of change.
const (
	ChangeAdded       = "added"
	ChangeRemoved     = "removed"
	ChangeDescription = "description"
	ChangeSchema      = "input_schema"
	ChangeOther       = "definition" // title, annotations, output schema…
)

// A Change is one difference between a listing and the pinned one.
type Change struct {
	Time time.Time
	Tool string
	Kind string
	// Before and After are the field that changed (the whole definition
	// for added and removed), as JSON; nil on the side it is absent.
	Before, After json.RawMessage
}

// pinned is a tool's definition as first listed, field by field.
type pinned struct {
	description, schema, rest json.RawMessage
}

func pin(def json.RawMessage) (name string, p pinned, ok bool) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(def, &fields) != nil {
		return "", p, false
	}
	if json.Unmarshal(fields["name"], &name) != nil || name == "" {
		return "", p, false
	}
	p.description, p.schema = compact(fields["description"]), compact(fields["inputSchema"])
	delete(fields, "description")
	delete(fields, "inputSchema")
	rest, _ := json.Marshal(fields) // keys sorted: the rest compares whole
	p.rest = rest
	return name, p, true
}

func compact(raw json.RawMessage) json.RawMessage {
	if raw == nil {
		return nil
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

// compareLocked compares the catalogue, just listed completely at at,
// with the pin (pinning it the first time) and keeps the changes. Callers
// hold c.mu.
func (c *Catalog) compareLocked(at time.Time) {
	now := map[string]pinned{}
	defs := map[string]json.RawMessage{}
	for _, d := range c.defs {
		if name, p, ok := pin(d); ok {
			now[name], defs[name] = p, d
		}
	}
	if c.pin == nil {
		c.pin, c.pinDefs, c.pinnedAt = now, defs, at
		if c.OnPin != nil {
			c.OnPin(PinFile{PinnedAt: at, Tools: slices.Clone(c.defs)})
		}
		return
	}
	var found []Change
	for name, p := range now {
		old, ok := c.pin[name]
		switch {
		case !ok:
			found = append(found, Change{Time: at, Tool: name, Kind: ChangeAdded, After: defs[name]})
			continue
		case !bytes.Equal(old.description, p.description):
			found = append(found, Change{Time: at, Tool: name, Kind: ChangeDescription, Before: old.description, After: p.description})
		}
		if !bytes.Equal(old.schema, p.schema) {
			found = append(found, Change{Time: at, Tool: name, Kind: ChangeSchema, Before: old.schema, After: p.schema})
		}
		if !bytes.Equal(old.rest, p.rest) {
			found = append(found, Change{Time: at, Tool: name, Kind: ChangeOther, Before: old.rest, After: p.rest})
		}
	}
	for name := range c.pin {
		if _, ok := now[name]; !ok {
			found = append(found, Change{Time: at, Tool: name, Kind: ChangeRemoved, Before: c.pinDefs[name]})
		}
	}
	slices.SortFunc(found, func(a, b Change) int {
		if a.Tool != b.Tool {
			if a.Tool < b.Tool {
				return -1
			}
			return 1
		}
		if a.Kind < b.Kind {
			return -1
		}
		return 1
	})
	// A change is kept once: the same listing again adds nothing.
	for _, ch := range found {
		if !c.seenLocked(ch) {
			c.changes = append(c.changes, ch)
		}
	}
	if n := len(c.changes) - maxChanges; n > 0 {
		c.changes = slices.Delete(c.changes, 0, n)
	}
	c.drifted = len(found)
	c.differ = map[string]bool{}
	for _, ch := range found {
		if ch.Kind != ChangeRemoved {
			c.differ[ch.Tool] = true
		}
	}
}

// Differs reports whether the tool, as the latest whole list defines it,
// is not the tool pinned: added since, or its description, schema or
// other fields changed. A tool removed since is not listed, and does not
// differ: a call to it fails at the server.
func (c *Catalog) Differs(tool string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.differ[tool]
}

// Accept pins the tools named (every tool, when none is) as the latest
// whole list defines them: an added tool joins the pin, a changed one
// is pinned as it is now, a removed one leaves it. It returns the tools
// whose pin changed, and tells OnPin of the new pin. Before any whole
// list, there is nothing to accept.
func (c *Catalog) Accept(tools []string, at time.Time) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pin == nil {
		return nil, errors.New("no whole tools/list seen yet: nothing is pinned")
	}
	want := map[string]bool{}
	for _, t := range tools {
		want[t] = true
	}
	now, defs := map[string]pinned{}, map[string]json.RawMessage{}
	for _, d := range c.defs {
		if name, p, ok := pin(d); ok {
			now[name], defs[name] = p, d
		}
	}
	var accepted []string
	for name := range c.differ {
		if len(want) == 0 || want[name] {
			c.pin[name], c.pinDefs[name] = now[name], defs[name]
			accepted = append(accepted, name)
		}
	}
	for name := range c.pin {
		if _, listed := now[name]; !listed && (len(want) == 0 || want[name]) {
			delete(c.pin, name)
			delete(c.pinDefs, name)
			accepted = append(accepted, name)
		}
	}
	for name := range want {
		if !slices.Contains(accepted, name) {
			return nil, fmt.Errorf("tool %q does not differ from its pin", name)
		}
	}
	slices.Sort(accepted)
	if len(accepted) == 0 {
		return nil, nil
	}
	c.pinnedAt = at
	changes := c.changes
	c.compareLocked(at) // the drift left, if any
	c.changes = changes // what changed stays on record
	if c.OnPin != nil {
		p := PinFile{PinnedAt: at}
		for _, name := range slices.Sorted(maps.Keys(c.pinDefs)) {
			p.Tools = append(p.Tools, c.pinDefs[name])
		}
		c.OnPin(p)
	}
	return accepted, nil
}

// seenLocked reports whether the change is the latest one kept for its
// tool and kind.
func (c *Catalog) seenLocked(ch Change) bool {
	for i := len(c.changes) - 1; i >= 0; i-- {
		k := c.changes[i]
		if k.Tool == ch.Tool && k.Kind == ch.Kind {
			return bytes.Equal(k.Before, ch.Before) && bytes.Equal(k.After, ch.After)
		}
	}
	return false
}

// Drift returns the changes seen since the catalogue was pinned, oldest
// first, how many differences the latest listing has from the pin (0:
// none now), and when it was pinned (zero before any complete list).
func (c *Catalog) Drift() (changes []Change, now int, pinnedAt time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.changes), c.drifted, c.pinnedAt
}

// A PinFile is a pin as kept across runs (proxy --pin FILE): the tool
// definitions as first listed, and when.
type PinFile struct {
	PinnedAt time.Time         `json:"pinned_at"`
	Tools    []json.RawMessage `json:"tools"`
}

// LoadPin pins p instead of the first list to come: a server is compared
// with the tools it had when the file was written, not with whatever it
// offers when this run starts.
func (c *Catalog) LoadPin(p PinFile) error {
	pins, defs := map[string]pinned{}, map[string]json.RawMessage{}
	for _, d := range p.Tools {
		name, pn, ok := pin(d)
		if !ok {
			return errors.New("pin: a tool definition without a name")
		}
		pins[name], defs[name] = pn, d
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pin, c.pinDefs, c.pinnedAt = pins, defs, p.PinnedAt
	return nil
}
