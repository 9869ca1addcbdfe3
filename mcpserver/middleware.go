package mcpserver

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// Error types recorded with failed requests: the monitor's, so that the
// server and the tunnel read alike on every surface.
const (
	ErrorTypeTool      = monitor.ErrorTypeTool
	ErrorTypeCancelled = monitor.ErrorTypeCancelled
)

// Metrics returns receiving middleware that times every request into m:
// per method (RecordMethod) and, for tools/call, per tool (RecordToolCall).
// isTool, when not nil, says which tool names exist, so that calls to
// unknown tools count against the method but do not invent tools.
func Metrics(m *monitor.Monitor, isTool func(name string) bool) mcp.Middleware {
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			start := time.Now()
			res, err := next(ctx, method, req)
			d := time.Since(start)
			errType := ErrorType(res, err)
			m.RecordMethod(method, d, errType)
			if method == monitor.MethodToolsCall {
				if r, ok := req.(*mcp.CallToolRequest); ok && r.Params != nil {
					if isTool == nil || isTool(r.Params.Name) {
						m.RecordToolCall(r.Params.Name, d, errType)
					}
				}
			}
			return res, err
		}
	}
}

// ErrorType classifies a request's outcome: "" for success, "tool_error"
// for a tool result with isError, the JSON-RPC code of a protocol error,
// "cancelled" when the request's context ended, else "error".
func ErrorType(res mcp.Result, err error) string {
	if err != nil {
		var we *jsonrpc.Error
		switch {
		case errors.As(err, &we):
			return strconv.FormatInt(we.Code, 10)
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return ErrorTypeCancelled
		}
		return monitor.ErrorTypeDefault
	}
	if r, ok := res.(*mcp.CallToolResult); ok && r != nil && r.IsError {
		return ErrorTypeTool
	}
	return ""
}
