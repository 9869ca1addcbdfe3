package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/capture"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/telemetry"
	"github.com/mcp-pba-tunnel/pbatunnel/tokens"
)

// Metrics returns receiving middleware that records every request into m
// as a monitor.Call (RecordCall: per method and, for tools/call, per
// tool). isTool, when not nil, says which tool names exist, so that calls
// to unknown tools count against the method but do not invent tools.
func Metrics(m *monitor.Monitor, isTool func(name string) bool) mcp.Middleware {
	return metrics(m, isTool, nil, nil, nil, nil)
}

// metrics is Metrics that also offers each tool result to counter, which
// counts its tokens off the call's path, keeps each request's parameters
// and result in payloads (nil: capture is off), and makes each request a
// SERVER span of tel (nil: no telemetry), the call's record naming it;
// agreed learns each session's protocol version from its initialize.
func metrics(m *monitor.Monitor, isTool func(name string) bool, counter *tokens.Counter, payloads *capture.Store, tel *telemetry.Telemetry, agreed *protocols) mcp.Middleware {
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			start := time.Now()
			var ex *exchange
			if !strings.HasPrefix(method, "notifications/") {
				// A notification's POST may be over before it is
				// handled: only requests are measured.
				ex = exchangeOf(req)
			}
			ctx, op := startSpan(ctx, tel, start, method, req, ex, agreed)
			res, err := next(ctx, method, req)
			c := monitor.Call{Start: start, Duration: time.Since(start), Method: method, ErrorType: ErrorType(res, err)}
			if r, ok := req.(*mcp.CallToolRequest); ok && r.Params != nil {
				c.Tool = r.Params.Name
				c.UnknownTool = isTool != nil && !isTool(c.Tool)
			}
			describeSession(&c, req)
			if r, ok := res.(*mcp.InitializeResult); ok && r != nil {
				c.Protocol = r.ProtocolVersion
				if ss, ok := req.GetSession().(*mcp.ServerSession); ok {
					agreed.set(ss, r.ProtocolVersion)
				}
			} else if v, ok := metaOf(req.GetParams())[mcp.MetaKeyProtocolVersion].(string); ok {
				// A client of the stateless protocol names its version in
				// every request's _meta, having sent no initialize.
				c.Protocol = v
			}
			c.Error = errorMessage(res, err)
			if ex != nil {
				c.RequestBytes = ex.request.Load()
			}
			if sc := op.SpanContext(); sc.IsValid() {
				c.TraceID, c.SpanID = sc.TraceID(), sc.SpanID()
			}
			id := m.RecordCall(c)
			if ex != nil {
				// The response is written once this returns; its size
				// joins the call then.
				tool := c.Tool
				if c.UnknownTool {
					tool = ""
				}
				ex.bind(m, id, tool)
			}
			if r, ok := res.(*mcp.CallToolResult); ok && counter != nil && !c.UnknownTool {
				counter.OfferResult(id, c.Tool, r)
			}
			if payloads != nil && !strings.HasPrefix(method, "notifications/") {
				keepPayload(payloads, id, req, res, err)
			}
			endSpan(ctx, op, &c, payloads, id)
			return res, err
		}
	}
}

// describeSession fills in who made the call and over what. Only
// Streamable HTTP sessions have ids; a session without one is stdio (or,
// in tests, in memory).
func describeSession(c *monitor.Call, req mcp.Request) {
	ss, ok := req.GetSession().(*mcp.ServerSession)
	if !ok || ss == nil {
		return
	}
	c.Session = ss.ID()
	c.Transport = monitor.TransportStdio
	if c.Session != "" {
		c.Transport = monitor.TransportHTTP
	}
	p := ss.InitializeParams()
	if r, ok := req.(*mcp.InitializeRequest); ok && r.Params != nil {
		p = r.Params // the session learns them once this call is done
	}
	if p != nil && p.ClientInfo != nil {
		c.Client = monitor.ClientInfo{Name: p.ClientInfo.Name, Version: p.ClientInfo.Version}
	}
}

// errorMessage is what a failed call said: the protocol error's message,
// or the first text of a tool result with isError.
func errorMessage(res mcp.Result, err error) string {
	if err != nil {
		var we *jsonrpc.Error
		if errors.As(err, &we) {
			return we.Message
		}
		return err.Error()
	}
	if r, ok := res.(*mcp.CallToolResult); ok && r != nil && r.IsError {
		for _, c := range r.Content {
			if t, ok := c.(*mcp.TextContent); ok {
				return t.Text
			}
		}
	}
	return ""
}

// ErrorType classifies a request's outcome: "" for success, "tool_error"
// for a tool result with isError, "cancelled" when the request's context
// ended, else the JSON-RPC code the client is answered with (a plain error
// gets the one ErrorCodes gives it).
func ErrorType(res mcp.Result, err error) string {
	if err != nil {
		var we *jsonrpc.Error
		switch {
		case errors.As(err, &we) && we.Code != 0:
			return strconv.FormatInt(we.Code, 10)
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return monitor.ErrorTypeCancelled
		case errors.As(withCode(err), &we):
			// The code ErrorCodes will answer with, so that the figures
			// name the error the client got.
			return strconv.FormatInt(we.Code, 10)
		}
		return monitor.ErrorTypeDefault
	}
	if r, ok := res.(*mcp.CallToolResult); ok && r != nil && r.IsError {
		return monitor.ErrorTypeTool
	}
	return ""
}

// keepPayload keeps a request's parameters (for tools/call, its arguments)
// and its result, or the error it was answered with. Capture is opt-in,
// so the encoding it costs is paid only when asked for.
func keepPayload(p *capture.Store, id uint64, req mcp.Request, res mcp.Result, err error) {
	var args []byte
	if r, ok := req.(*mcp.CallToolRequest); ok && r.Params != nil {
		args = r.Params.Arguments
	} else if params := req.GetParams(); params != nil {
		args, _ = json.Marshal(params)
	}
	var out []byte
	if err != nil {
		code, msg := int64(0), err.Error()
		var we *jsonrpc.Error
		if errors.As(withCode(err), &we) {
			code, msg = we.Code, we.Message
		}
		out, _ = json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": msg}})
	} else if res != nil {
		out, _ = json.Marshal(res)
	}
	p.Keep(id, args, out)
}

// metaOf returns the _meta of params, nil when there are none: params may
// be a nil pointer of its type (a request without params), on which the
// promoted GetMeta would dereference nil.
func metaOf(p mcp.Params) map[string]any {
	if p == nil {
		return nil
	}
	if v := reflect.ValueOf(p); v.Kind() == reflect.Pointer && v.IsNil() {
		return nil
	}
	return p.GetMeta()
}
