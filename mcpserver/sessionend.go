package mcpserver

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// sessionEnds returns receiving middleware that calls onEnd with the
// transport and id of each session once it has ended (Streamable HTTP:
// deleted by its client or expired; stdio: its client closed stdin),
// watching from its initialize on, with one goroutine per live session,
// which ends with it.
func sessionEnds(onEnd func(transport, id string)) mcp.Middleware {
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			res, err := next(ctx, method, req)
			if method != "initialize" || err != nil {
				return res, err
			}
			if ss, ok := req.GetSession().(*mcp.ServerSession); ok && ss != nil {
				transport := monitor.TransportStdio
				if ss.ID() != "" {
					transport = monitor.TransportHTTP
				}
				go func() {
					_ = ss.Wait()
					onEnd(transport, ss.ID())
				}()
			}
			return res, err
		}
	}
}
