package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/memory"
)

// The knowledge-graph tools: the names and argument shapes of the
// reference memory server (@modelcontextprotocol/server-memory), so that an
// agent set up for it works unchanged, over the memory store. What they do
// differently is in docs/MEMORY.md.
const (
	ToolCreateEntities     = "create_entities"
	ToolCreateRelations    = "create_relations"
	ToolAddObservations    = "add_observations"
	ToolDeleteEntities     = "delete_entities"
	ToolDeleteObservations = "delete_observations"
	ToolDeleteRelations    = "delete_relations"
	ToolReadGraph          = "read_graph"
	ToolSearchNodes        = "search_nodes"
	ToolOpenNodes          = "open_nodes"
)

// GraphTools are the knowledge-graph tools' names.
var GraphTools = []string{
	ToolCreateEntities, ToolCreateRelations, ToolAddObservations,
	ToolDeleteEntities, ToolDeleteObservations, ToolDeleteRelations,
	ToolReadGraph, ToolSearchNodes, ToolOpenNodes,
}

// Arguments and results of the knowledge-graph tools.
type (
	CreateEntitiesInput struct {
		Entities []memory.Entity `json:"entities" jsonschema:"entities to create: name, entityType and observations; a name that exists is skipped"`
	}
	CreateEntitiesOutput struct {
		Entities []memory.Entity `json:"entities" jsonschema:"the entities created"`
	}
	CreateRelationsInput struct {
		Relations []memory.Relation `json:"relations" jsonschema:"relations to create, from and to entity names, relationType in active voice (works_at); one that exists is skipped"`
	}
	CreateRelationsOutput struct {
		Relations []memory.Relation `json:"relations" jsonschema:"the relations created"`
	}
	AddObservationsInput struct {
		Observations []memory.ObservationAddition `json:"observations" jsonschema:"for each entity (entityName), the observations (contents) to add; ones it holds are skipped"`
	}
	AddObservationsOutput struct {
		Results []memory.ObservationResult `json:"results" jsonschema:"for each entity, the observations added"`
	}
	DeleteEntitiesInput struct {
		EntityNames []string `json:"entityNames" jsonschema:"names of the entities to delete, with every relation that names them"`
	}
	DeleteObservationsInput struct {
		Deletions []memory.ObservationDeletion `json:"deletions" jsonschema:"for each entity (entityName), the observations to remove"`
	}
	DeleteRelationsInput struct {
		Relations []memory.Relation `json:"relations" jsonschema:"relations to delete, matched on from, to and relationType"`
	}
	// DeleteOutput is the result of the three deletions: the reference's
	// success and message, and what was removed.
	DeleteOutput struct {
		Success bool                `json:"success"`
		Message string              `json:"message"`
		Deleted memory.GraphChanges `json:"deleted"`
	}
	ReadGraphInput struct {
		Limit     int    `json:"limit,omitempty" jsonschema:"page size: at most this many entities and this many relations; default all of them"`
		Cursor    string `json:"cursor,omitempty" jsonschema:"nextCursor of the previous page"`
		NamesOnly bool   `json:"namesOnly,omitempty" jsonschema:"leave out the observations"`
	}
	SearchNodesInput struct {
		Query     string `json:"query" jsonschema:"text to find in entity names, types and observations, ignoring case"`
		Match     string `json:"match,omitempty" jsonschema:"substring (default): the query as written; words: every word of the query, in any order"`
		Limit     int    `json:"limit,omitempty" jsonschema:"page size in entities, best first; default all of them"`
		Cursor    string `json:"cursor,omitempty" jsonschema:"nextCursor of the previous page"`
		NamesOnly bool   `json:"namesOnly,omitempty" jsonschema:"leave out the observations"`
	}
	OpenNodesInput struct {
		Names     []string `json:"names" jsonschema:"names of the entities to return"`
		NamesOnly bool     `json:"namesOnly,omitempty" jsonschema:"leave out the observations"`
	}
	// GraphOutput is a graph, or one page of it.
	GraphOutput = memory.GraphPage
)

// GraphResourceURI is the resource that holds the whole knowledge graph,
// as the reference server names it. A client may subscribe to it and is
// notified after every change made through this server's tools (changes
// by another process sharing the store are not announced).
const GraphResourceURI = "memory://knowledge-graph"

// subscribeGraph and unsubscribeGraph accept subscriptions to the graph
// resource only; the SDK keeps track of who subscribed.
func subscribeGraph(_ context.Context, req *mcp.SubscribeRequest) error {
	return checkSubscribable(req.Params.URI)
}

func unsubscribeGraph(_ context.Context, req *mcp.UnsubscribeRequest) error {
	return checkSubscribable(req.Params.URI)
}

// checkSubscribable refuses any other URI as the SDK refuses to read an
// unknown resource (CodeResourceNotFound, the uri in data), with a message
// that says which one can be subscribed to.
func checkSubscribable(uri string) error {
	if uri != GraphResourceURI {
		data, _ := json.Marshal(map[string]string{"uri": uri}) // strings always encode
		return &jsonrpc.Error{
			Code:    mcp.CodeResourceNotFound,
			Message: fmt.Sprintf("cannot subscribe to %q: only %s announces changes", uri, GraphResourceURI),
			Data:    data,
		}
	}
	return nil
}

func addGraphTools(s *mcp.Server, store memory.Store) {
	s.AddResource(&mcp.Resource{
		URI: GraphResourceURI, Name: "knowledge-graph", Title: "Knowledge graph", MIMEType: "application/json",
		Description: "Every entity and relation of the knowledge graph, as read_graph returns them.",
	}, func(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		p, err := store.ReadGraph(ctx, memory.GraphQuery{})
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(p.Graph)
		if err != nil {
			return nil, err
		}
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, MIMEType: "application/json", Text: string(b)}}}, nil
	})
	// changed tells the graph's subscribers; a failure to reach one is
	// the SDK's to log, not the tool call's.
	changed := func(ctx context.Context) {
		_ = s.ResourceUpdated(ctx, &mcp.ResourceUpdatedNotificationParams{URI: GraphResourceURI})
	}
	writes := func(destructive bool) *mcp.ToolAnnotations {
		return &mcp.ToolAnnotations{DestructiveHint: ptr(destructive), IdempotentHint: destructive, OpenWorldHint: ptr(false)}
	}
	reads := &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: ptr(false)}

	mcp.AddTool(s, &mcp.Tool{
		Name: ToolCreateEntities, Title: "Create entities", Annotations: writes(false),
		Description: "Add entities (people, projects, things) to the knowledge graph, each with a name, a type and observations. Names are unique: an entity whose name is taken is skipped. Returns the entities created.",
	}, func(ctx context.Context, _ *mcp.CallToolRequest, in CreateEntitiesInput) (*mcp.CallToolResult, *CreateEntitiesOutput, error) {
		es, err := store.CreateEntities(ctx, in.Entities)
		if err != nil {
			return nil, nil, err
		}
		changed(ctx)
		return nil, &CreateEntitiesOutput{Entities: es}, nil
	})

	mcp.AddTool(s, &mcp.Tool{
		Name: ToolCreateRelations, Title: "Create relations", Annotations: writes(false),
		Description: "Link entities of the knowledge graph with typed, directed relations (from, to, relationType, in active voice). A relation that exists is skipped. Returns the relations created.",
	}, func(ctx context.Context, _ *mcp.CallToolRequest, in CreateRelationsInput) (*mcp.CallToolResult, *CreateRelationsOutput, error) {
		rs, err := store.CreateRelations(ctx, in.Relations)
		if err != nil {
			return nil, nil, err
		}
		changed(ctx)
		return nil, &CreateRelationsOutput{Relations: rs}, nil
	})

	mcp.AddTool(s, &mcp.Tool{
		Name: ToolAddObservations, Title: "Add observations", Annotations: writes(false),
		Description: "Add observations (facts, as short sentences) to existing entities of the knowledge graph. Observations an entity holds are skipped; an entity that does not exist fails the call and nothing is added.",
	}, func(ctx context.Context, _ *mcp.CallToolRequest, in AddObservationsInput) (*mcp.CallToolResult, *AddObservationsOutput, error) {
		rs, err := store.AddObservations(ctx, in.Observations)
		if err != nil {
			return nil, nil, err
		}
		changed(ctx)
		return nil, &AddObservationsOutput{Results: rs}, nil
	})

	mcp.AddTool(s, &mcp.Tool{
		Name: ToolDeleteEntities, Title: "Delete entities", Annotations: writes(true),
		Description: "Remove entities from the knowledge graph by name, together with every relation that names them. Names that match nothing are ignored.",
	}, func(ctx context.Context, _ *mcp.CallToolRequest, in DeleteEntitiesInput) (*mcp.CallToolResult, *DeleteOutput, error) {
		ch, err := store.DeleteEntities(ctx, in.EntityNames)
		return deleted(ctx, changed, ch, err, "Entities deleted successfully")
	})

	mcp.AddTool(s, &mcp.Tool{
		Name: ToolDeleteObservations, Title: "Delete observations", Annotations: writes(true),
		Description: "Remove given observations from entities of the knowledge graph. Entities or observations that do not exist are ignored.",
	}, func(ctx context.Context, _ *mcp.CallToolRequest, in DeleteObservationsInput) (*mcp.CallToolResult, *DeleteOutput, error) {
		ch, err := store.DeleteObservations(ctx, in.Deletions)
		return deleted(ctx, changed, ch, err, "Observations deleted successfully")
	})

	mcp.AddTool(s, &mcp.Tool{
		Name: ToolDeleteRelations, Title: "Delete relations", Annotations: writes(true),
		Description: "Remove relations from the knowledge graph, matched on from, to and relationType. Relations that do not exist are ignored.",
	}, func(ctx context.Context, _ *mcp.CallToolRequest, in DeleteRelationsInput) (*mcp.CallToolResult, *DeleteOutput, error) {
		ch, err := store.DeleteRelations(ctx, in.Relations)
		return deleted(ctx, changed, ch, err, "Relations deleted successfully")
	})

	mcp.AddTool(s, &mcp.Tool{
		Name: ToolReadGraph, Title: "Read the graph", Annotations: reads,
		Description: "Return the knowledge graph: every entity and relation in the order they were created. On a large graph, page with limit and the nextCursor of each page, and use namesOnly for an overview.",
	}, func(ctx context.Context, _ *mcp.CallToolRequest, in ReadGraphInput) (*mcp.CallToolResult, *GraphOutput, error) {
		p, err := store.ReadGraph(ctx, memory.GraphQuery{Limit: in.Limit, Cursor: in.Cursor, NamesOnly: in.NamesOnly})
		if err != nil {
			return nil, nil, err
		}
		return nil, &p, nil
	})

	mcp.AddTool(s, &mcp.Tool{
		Name: ToolSearchNodes, Title: "Search the graph", Annotations: reads,
		Description: "Find entities whose name, type or an observation contains the query, ignoring case, best match first (a name match ranks highest), with the relations that touch them. match: words finds entities holding every word of the query in any order. Page with limit and nextCursor.",
	}, func(ctx context.Context, _ *mcp.CallToolRequest, in SearchNodesInput) (*mcp.CallToolResult, *GraphOutput, error) {
		p, err := store.SearchNodes(ctx, memory.NodeQuery{Query: in.Query, Match: in.Match, Limit: in.Limit, Cursor: in.Cursor, NamesOnly: in.NamesOnly})
		if err != nil {
			return nil, nil, err
		}
		return nil, &p, nil
	})

	mcp.AddTool(s, &mcp.Tool{
		Name: ToolOpenNodes, Title: "Open entities", Annotations: reads,
		Description: "Return the named entities of the knowledge graph with every relation that has one of them at either end. Names that do not exist are left out.",
	}, func(ctx context.Context, _ *mcp.CallToolRequest, in OpenNodesInput) (*mcp.CallToolResult, *GraphOutput, error) {
		g, err := store.OpenNodes(ctx, in.Names, in.NamesOnly)
		if err != nil {
			return nil, nil, err
		}
		return nil, &GraphOutput{Graph: g}, nil
	})
}

func deleted(ctx context.Context, changed func(context.Context), ch memory.GraphChanges, err error, msg string) (*mcp.CallToolResult, *DeleteOutput, error) {
	if err != nil {
		return nil, nil, err
	}
	changed(ctx)
	return nil, &DeleteOutput{Success: true, Message: msg, Deleted: ch}, nil
}
