package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/memory"
)

// ToolEnhancedMemory is the persistent memory tool.
const ToolEnhancedMemory = "enhanced_memory"

// Memory operations, the values of MemoryInput.Operation.
const (
	OpStore    = "store"
	OpRetrieve = "retrieve"
	OpSearch   = "search"
	OpRelate   = "relate"
	OpContext  = "context"
	OpUpdate   = "update"
	OpDelete   = "delete"
	OpClear    = "clear"
	OpStats    = "stats"
)

var memoryOps = []string{OpStore, OpRetrieve, OpSearch, OpRelate, OpContext, OpUpdate, OpDelete, OpClear, OpStats}

// MemoryInput is enhanced_memory's arguments: one operation and the fields
// it uses. A field the operation does not use is an error, not silently
// ignored, so that a mistaken call is caught.
type MemoryInput struct {
	Operation string `json:"operation" jsonschema:"store | retrieve | search | relate | context | update | delete | clear | stats"`

	ID      string `json:"id,omitempty" jsonschema:"entry id (retrieve one entry, context, update, delete)"`
	Content string `json:"content,omitempty" jsonschema:"the text to remember (store; update replaces it)"`

	ConversationID  string         `json:"conversation_id,omitempty" jsonschema:"conversation the entry belongs to (store); filter (retrieve, search); scope (clear, required)"`
	SessionID       string         `json:"session_id,omitempty" jsonschema:"session the entry belongs to (store); filter (retrieve, search)"`
	ContextType     string         `json:"context_type,omitempty" jsonschema:"kind of memory such as fact, preference, task, code (store, update; default general); filter (retrieve, search)"`
	Importance      *float64       `json:"importance,omitempty" jsonschema:"0 to 1 (store, default 0.5; update)"`
	Tags            []string       `json:"tags,omitempty" jsonschema:"labels (store; update replaces them); filter: entries with all these tags (retrieve, search)"`
	Metadata        map[string]any `json:"metadata,omitempty" jsonschema:"free JSON object (store; update merges it into the entry's, or replaces it with replace_metadata; relate)"`
	ReplaceMetadata bool           `json:"replace_metadata,omitempty" jsonschema:"update: replace the metadata instead of merging"`
	TTLSeconds      *float64       `json:"ttl_seconds,omitempty" jsonschema:"forget the entry after this many seconds (store; update: 0 removes the expiry)"`

	Query         string   `json:"query,omitempty" jsonschema:"words or \"quoted phrases\" to search for, ranked by relevance (search, required)"`
	IDs           []string `json:"ids,omitempty" jsonschema:"retrieve: these entries"`
	MinImportance *float64 `json:"min_importance,omitempty" jsonschema:"filter: importance at least this (retrieve, search)"`
	Since         string   `json:"since,omitempty" jsonschema:"filter: created at or after this RFC 3339 time (retrieve, search)"`
	Until         string   `json:"until,omitempty" jsonschema:"filter: created before this RFC 3339 time (retrieve, search)"`
	Limit         int      `json:"limit,omitempty" jsonschema:"page size, default 20, at most 100 (retrieve, search)"`
	Cursor        string   `json:"cursor,omitempty" jsonschema:"next_cursor of the previous page (retrieve, search)"`

	SourceID     string   `json:"source_id,omitempty" jsonschema:"relate: the entry the relationship starts from"`
	TargetID     string   `json:"target_id,omitempty" jsonschema:"relate: the entry it points to"`
	RelationType string   `json:"relation_type,omitempty" jsonschema:"relate: such as supports, follows, contradicts, part_of"`
	Strength     *float64 `json:"strength,omitempty" jsonschema:"relate: 0 to 1, default 1"`

	Depth int `json:"depth,omitempty" jsonschema:"context: how many relationship steps to follow, 1 to 5, default 1"`

	Confirm bool `json:"confirm,omitempty" jsonschema:"clear: must be true; clear deletes every entry of conversation_id"`
}

// MemoryOutput is enhanced_memory's result; which fields are set depends
// on the operation.
type MemoryOutput struct {
	Operation    string         `json:"operation"`
	Entry        *memory.Entry  `json:"entry,omitempty"`
	Entries      []memory.Entry `json:"entries,omitzero"`
	Hits         []memory.Hit   `json:"hits,omitzero"`
	NextCursor   string         `json:"next_cursor,omitempty"`
	IgnoredTerms []string       `json:"ignored_terms,omitempty"`
	// Ranking is how search hits are ordered: relevance, or recency when
	// every term is too common to rank on.
	Ranking      string                `json:"ranking,omitempty"`
	Relationship *memory.Relationship  `json:"relationship,omitempty"`
	Context      *memory.ContextResult `json:"context,omitempty"`
	Deleted      int                   `json:"deleted,omitempty"`
	Stats        *memory.Stats         `json:"stats,omitempty"`
	Message      string                `json:"message,omitempty"`
}

// fieldsOf lists, per operation, the fields it takes beyond operation.
var fieldsOf = map[string][]string{
	OpStore:    {"content", "conversation_id", "session_id", "context_type", "importance", "tags", "metadata", "ttl_seconds"},
	OpRetrieve: {"id", "ids", "conversation_id", "session_id", "context_type", "tags", "min_importance", "since", "until", "limit", "cursor"},
	OpSearch:   {"query", "conversation_id", "session_id", "context_type", "tags", "min_importance", "since", "until", "limit", "cursor"},
	OpRelate:   {"source_id", "target_id", "relation_type", "strength", "metadata"},
	OpContext:  {"id", "depth"},
	OpUpdate:   {"id", "content", "context_type", "importance", "tags", "metadata", "replace_metadata", "ttl_seconds"},
	OpDelete:   {"id"},
	OpClear:    {"conversation_id", "confirm"},
	OpStats:    {},
}

// setFields names the fields of in that are set.
func (in *MemoryInput) setFields() []string {
	var out []string
	add := func(name string, set bool) {
		if set {
			out = append(out, name)
		}
	}
	add("id", in.ID != "")
	add("content", in.Content != "")
	add("conversation_id", in.ConversationID != "")
	add("session_id", in.SessionID != "")
	add("context_type", in.ContextType != "")
	add("importance", in.Importance != nil)
	add("tags", in.Tags != nil)
	add("metadata", in.Metadata != nil)
	add("replace_metadata", in.ReplaceMetadata)
	add("ttl_seconds", in.TTLSeconds != nil)
	add("query", in.Query != "")
	add("ids", in.IDs != nil)
	add("min_importance", in.MinImportance != nil)
	add("since", in.Since != "")
	add("until", in.Until != "")
	add("limit", in.Limit != 0)
	add("cursor", in.Cursor != "")
	add("source_id", in.SourceID != "")
	add("target_id", in.TargetID != "")
	add("relation_type", in.RelationType != "")
	add("strength", in.Strength != nil)
	add("depth", in.Depth != 0)
	add("confirm", in.Confirm)
	return out
}

func addMemoryTool(s *mcp.Server, store memory.Store) {
	mcp.AddTool(s, &mcp.Tool{
		Name:  ToolEnhancedMemory,
		Title: "Enhanced memory",
		Description: "Persistent memory for agents, kept in SQLite across sessions. Choose an operation:\n" +
			"- store: remember content (with conversation_id, context_type, importance 0-1, tags, metadata, ttl_seconds); returns the entry and its id.\n" +
			"- retrieve: one entry by id, several by ids, or a filtered list newest first (conversation_id, session_id, context_type, tags, min_importance, since, until), paged with limit and cursor.\n" +
			"- search: full-text search of query, best match first, with the same filters and paging; snippets mark the matching words.\n" +
			"- relate: link source_id to target_id with relation_type and strength.\n" +
			"- context: an entry with the entries related to it, up to depth steps away.\n" +
			"- update: change content, context_type, importance, tags, metadata or ttl_seconds of id.\n" +
			"- delete: forget id and its relationships.\n" +
			"- clear: forget every entry of conversation_id; needs confirm: true.\n" +
			"- stats: counts, cache and database size.",
		Annotations: &mcp.ToolAnnotations{DestructiveHint: ptr(true), OpenWorldHint: ptr(false)},
	}, func(ctx context.Context, _ *mcp.CallToolRequest, in MemoryInput) (*mcp.CallToolResult, *MemoryOutput, error) {
		out, err := runMemory(ctx, store, in)
		if err != nil {
			return nil, nil, err
		}
		return nil, out, nil
	})
}

// runMemory checks the operation's fields and runs it. Its errors are
// shown to the agent as an isError result, so they say what to change.
func runMemory(ctx context.Context, store memory.Store, in MemoryInput) (*MemoryOutput, error) {
	op := strings.ToLower(strings.TrimSpace(in.Operation))
	allowed, ok := fieldsOf[op]
	if !ok {
		return nil, fmt.Errorf("unknown operation %q: use one of %s", in.Operation, strings.Join(memoryOps, ", "))
	}
	for _, f := range in.setFields() {
		if !slices.Contains(allowed, f) {
			return nil, fmt.Errorf("operation %s does not take %s (it takes: %s)", op, f, strings.Join(allowed, ", "))
		}
	}
	out := &MemoryOutput{Operation: op}
	filter, err := in.filter()
	if err != nil {
		return nil, err
	}
	switch op {
	case OpStore:
		ne := memory.NewEntry{
			ConversationID: in.ConversationID, SessionID: in.SessionID, Content: in.Content,
			ContextType: in.ContextType, Importance: in.Importance, Tags: in.Tags, Metadata: in.Metadata,
		}
		if in.TTLSeconds != nil {
			if *in.TTLSeconds <= 0 {
				return nil, fmt.Errorf("ttl_seconds must be positive, got %v", *in.TTLSeconds)
			}
			ne.TTL = seconds(*in.TTLSeconds)
		}
		e, err := store.Store(ctx, ne)
		if err != nil {
			return nil, err
		}
		out.Entry = &e
	case OpRetrieve:
		if in.ID != "" {
			if len(in.setFields()) > 1 {
				return nil, errors.New("retrieve by id takes no other field; to list entries, leave id out")
			}
			e, err := store.Get(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			out.Entry = &e
			break
		}
		p, err := store.Retrieve(ctx, memory.Query{Filter: filter, IDs: in.IDs, Limit: in.Limit, Cursor: in.Cursor})
		if err != nil {
			return nil, err
		}
		out.Entries, out.NextCursor = nonNil(p.Entries), p.NextCursor
	case OpSearch:
		p, err := store.Search(ctx, memory.SearchQuery{Text: in.Query, Filter: filter, Limit: in.Limit, Cursor: in.Cursor})
		if err != nil {
			return nil, err
		}
		out.Hits, out.NextCursor, out.IgnoredTerms, out.Ranking = nonNil(p.Hits), p.NextCursor, p.IgnoredTerms, p.Ranking
		// Only an empty cursor means nothing more: a page in recency order
		// may be short, even empty, with more after it.
		if len(p.Hits) == 0 && p.NextCursor == "" {
			out.Message = "no entry matches"
		}
	case OpRelate:
		r, err := store.Relate(ctx, memory.NewRelationship{SourceID: in.SourceID, TargetID: in.TargetID, Type: in.RelationType, Strength: in.Strength, Metadata: in.Metadata})
		if err != nil {
			return nil, err
		}
		out.Relationship = &r
	case OpContext:
		c, err := store.Context(ctx, in.ID, in.Depth)
		if err != nil {
			return nil, err
		}
		out.Context = &c
	case OpUpdate:
		p := memory.Patch{Importance: in.Importance, Metadata: in.Metadata, ReplaceMetadata: in.ReplaceMetadata}
		if in.Content != "" {
			p.Content = &in.Content
		}
		if in.ContextType != "" {
			p.ContextType = &in.ContextType
		}
		if in.Tags != nil {
			p.Tags = &in.Tags
		}
		if in.TTLSeconds != nil {
			if *in.TTLSeconds < 0 {
				return nil, fmt.Errorf("ttl_seconds must not be negative, got %v", *in.TTLSeconds)
			}
			ttl := seconds(*in.TTLSeconds)
			p.TTL = &ttl
		}
		e, err := store.Update(ctx, in.ID, p)
		if err != nil {
			return nil, err
		}
		out.Entry = &e
	case OpDelete:
		if err := store.Delete(ctx, in.ID); err != nil {
			return nil, err
		}
		out.Deleted = 1
	case OpClear:
		if in.ConversationID == "" {
			return nil, errors.New("clear needs conversation_id: it only ever clears one conversation")
		}
		if !in.Confirm {
			return nil, fmt.Errorf("clear deletes every entry of conversation %q; to do it, call again with confirm: true", in.ConversationID)
		}
		n, err := store.Clear(ctx, in.ConversationID)
		if err != nil {
			return nil, err
		}
		out.Deleted = n
		out.Message = fmt.Sprintf("cleared %d entries of conversation %q", n, in.ConversationID)
	case OpStats:
		st, err := store.Stats(ctx)
		if err != nil {
			return nil, err
		}
		out.Stats = &st
	}
	return out, nil
}

// filter builds the retrieve and search filter from the input.
func (in *MemoryInput) filter() (memory.Filter, error) {
	f := memory.Filter{ConversationID: in.ConversationID, SessionID: in.SessionID, ContextType: in.ContextType, Tags: in.Tags}
	if in.MinImportance != nil {
		f.MinImportance = *in.MinImportance
	}
	for _, t := range []struct {
		name string
		raw  string
		dst  *time.Time
	}{{"since", in.Since, &f.Since}, {"until", in.Until, &f.Until}} {
		if t.raw == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339, t.raw)
		if err != nil {
			return f, fmt.Errorf("%s must be an RFC 3339 time such as 2026-01-15T14:30:00Z, got %q", t.name, t.raw)
		}
		*t.dst = v
	}
	return f, nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
