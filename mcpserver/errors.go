package mcpserver

import (
	"context"
	"errors"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Every error this server answers carries a JSON-RPC code the
// specification defines. The SDK sends a plain Go error with code 0, which
// JSON-RPC does not define and clients show as "MCP error 0"; some of its
// own refusals are plain errors (a request before initialization, a second
// initialize, initialize parameters it cannot decode), and so is any
// failure of a handler that is not a tool (tools answer isError results).

// sdkErrorCodes are the plain errors of the SDK whose meaning is known, by
// a part of their text; any other plain error is an internal error. The
// tests send each case over the wire, so a change of wording in the SDK
// shows there.
var sdkErrorCodes = []struct {
	contains string
	code     int64
}{
	// A call before initialize, except ping.
	{"is invalid during session initialization", jsonrpc.CodeInvalidRequest},
	// A second initialize on one session.
	{`duplicate "initialize" received`, jsonrpc.CodeInvalidRequest},
	// Parameters the SDK could not decode before any handler ran.
	{"handling '", jsonrpc.CodeInvalidParams},
}

// withCode returns err as a *jsonrpc.Error with the code its kind calls
// for, or err itself when it already carries a code.
func withCode(err error) error {
	if err == nil {
		return nil
	}
	var je *jsonrpc.Error
	if errors.As(err, &je) && je.Code != 0 {
		return err // the SDK encodes the wrapped code with the outer message
	}
	code := int64(jsonrpc.CodeInternalError)
	msg := err.Error()
	for _, k := range sdkErrorCodes {
		if strings.Contains(msg, k.contains) {
			code = k.code
			break
		}
	}
	return &jsonrpc.Error{Code: code, Message: msg}
}

// ErrorCodes returns receiving middleware that gives every error a request
// ends with a JSON-RPC code: a plain error becomes Invalid Request or
// Invalid Params when the SDK's text says which, else Internal Error (a
// cancelled request included: the specification has no code for it). Add
// it after any middleware that classifies plain errors, such as Metrics,
// so that it runs outermost.
func ErrorCodes() mcp.Middleware {
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			res, err := next(ctx, method, req)
			if err != nil {
				return nil, withCode(err)
			}
			return res, nil
		}
	}
}

// codedTransport gives a code to the error answers the SDK makes before
// any middleware runs: a request before initialization, initialize
// parameters it cannot decode. It sees every message a connection writes.
//
// The SDK's own connections learn the negotiated protocol through a method
// it does not export, which a wrapper cannot pass on; IOTransport uses it
// only to refuse JSON-RPC batches from 2025-06-18 on, so wrap a transport
// whose batches are refused before it, as ServeStdio's framing does.
//
// Over stdio it also hands the framing each request as it is read, to be
// measured (framing.measure).
type codedTransport struct {
	mcp.Transport
	f *framing // nil: not stdio
}

func (t codedTransport) Connect(ctx context.Context) (mcp.Connection, error) {
	c, err := t.Transport.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return codedConn{c, t.f}, nil
}

type codedConn struct {
	mcp.Connection
	f *framing
}

func (c codedConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	msg, err := c.Connection.Read(ctx)
	if req, ok := msg.(*jsonrpc.Request); ok && c.f != nil {
		c.f.measure(req)
	}
	return msg, err
}

func (c codedConn) Write(ctx context.Context, msg jsonrpc.Message) error {
	if r, ok := msg.(*jsonrpc.Response); ok && r.Error != nil {
		coded := *r // the SDK's message is not ours to change
		coded.Error = withCode(r.Error)
		msg = &coded
	}
	return c.Connection.Write(ctx, msg)
}
