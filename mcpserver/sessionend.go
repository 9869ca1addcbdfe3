package mcpserver

import (
	"context"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// sessionEnds returns receiving middleware that calls onEnd (when not
// nil) with the transport and id of each session once it has ended
// (Streamable HTTP: deleted by its client or expired; stdio: its client
// closed stdin), and then forgets what agreed holds of it. A session is
// watched from its first request, initialize or not: a client of the
// stateless protocol (2026-07-28) never sends one. One goroutine waits per
// live session, and ends with it.
func sessionEnds(onEnd func(transport, id string), agreed *protocols) mcp.Middleware {
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
						agreed.forget(ss)
						if onEnd != nil {
							onEnd(transport, ss.ID())
						}
					}()
				}
			}
			return next(ctx, method, req)
		}
	}
}

// protocols are the protocol versions the live sessions agreed at
// initialize: the SDK tells its middleware what the client asked for, not
// what it was answered. Nil keeps nothing.
type protocols struct{ m sync.Map } // *mcp.ServerSession → string

func (p *protocols) set(ss *mcp.ServerSession, version string) {
	if p != nil && ss != nil && version != "" {
		p.m.Store(ss, version)
	}
}

func (p *protocols) get(ss *mcp.ServerSession) string {
	if p == nil || ss == nil {
		return ""
	}
	v, _ := p.m.Load(ss)
	s, _ := v.(string)
	return s
}

func (p *protocols) forget(ss *mcp.ServerSession) {
	if p != nil {
		p.m.Delete(ss)
	}
}
