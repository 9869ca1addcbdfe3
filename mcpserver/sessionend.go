package mcpserver

import (
	"context"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// sessionEnds returns receiving middleware that calls onEnd with the
// transport and id of each session once it has ended (Streamable HTTP:
// deleted by its client or expired; stdio: its client closed stdin). A
// session is watched from its first request, initialize or not: a client
// of the stateless protocol (2026-07-28) never sends one. One goroutine
// waits per live session, and ends with it.
func sessionEnds(onEnd func(transport, id string)) mcp.Middleware {
	var watched sync.Map // *mcp.ServerSession → struct{}
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			if ss, ok := req.GetSession().(*mcp.ServerSession); ok && ss != nil {
				if _, seen := watched.LoadOrStore(ss, struct{}{}); !seen {
					transport := monitor.TransportStdio
					if ss.ID() != "" {
						transport = monitor.TransportHTTP
					}
					go func() {
						_ = ss.Wait()
						watched.Delete(ss)
						onEnd(transport, ss.ID())
					}()
				}
			}
			return next(ctx, method, req)
		}
	}
}
