package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/catalog"
)

// listOwnTools gives c the server's tool list, as a client would get it,
// over an in-memory session that ends at once.
func listOwnTools(srv *mcp.Server, c *catalog.Catalog) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ct, st := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	defer ss.Close()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: Name + "-catalog", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		return fmt.Errorf("initializing: %w", err)
	}
	defer cs.Close()
	res, err := cs.ListTools(ctx, nil)
	if err != nil {
		return fmt.Errorf("tools/list: %w", err)
	}
	return setCatalog(c, res, true)
}

// catalogUpdates returns receiving middleware that gives c every tools/list
// result the server sends.
func catalogUpdates(c *catalog.Catalog) mcp.Middleware {
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			res, err := next(ctx, method, req)
			if r, ok := res.(*mcp.ListToolsResult); ok && err == nil && r != nil {
				first := true
				if p, ok := req.GetParams().(*mcp.ListToolsParams); ok && p != nil && p.Cursor != "" {
					first = false
				}
				_ = setCatalog(c, r, first)
			}
			return res, err
		}
	}
}

func setCatalog(c *catalog.Catalog, r *mcp.ListToolsResult, first bool) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encoding the tool list: %w", err)
	}
	return c.SetJSON(b, first, time.Now())
}
