package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
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
