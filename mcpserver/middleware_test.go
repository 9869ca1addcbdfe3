package mcpserver_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/mcpserver"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/report"
)

// TestEveryRequestIsACall checks the calls the middleware records: one per
// request, with its method, tool, client, transport and outcome.
func TestEveryRequestIsACall(t *testing.T) {
	e := newEnv(t)
	e.call(t, "enhanced_memory", map[string]any{"operation": "store", "content": "a call"})
	res := e.call(t, "enhanced_memory", map[string]any{"operation": "retrieve", "id": "no-such-id"})
	if !res.IsError {
		t.Fatalf("retrieving a missing id succeeded: %+v", res)
	}
	if _, err := e.client.CallTool(context.Background(), &mcp.CallToolParams{Name: "no_such_tool"}); err == nil {
		t.Fatal("an unknown tool was called")
	}

	calls := e.m.RecentCalls(0, 100)
	byMethod := map[string][]monitor.Call{}
	for _, c := range calls {
		byMethod[c.Method] = append(byMethod[c.Method], c)
		if c.Client.Name != "test-client" || c.Client.Version != "1" || c.Transport != monitor.TransportStdio || c.Duration <= 0 || c.Start.IsZero() {
			t.Errorf("call %+v lacks who, how or when", c)
		}
	}
	// The handshake (initialize, or server/discover from clients of the
	// newest protocol) is a call too.
	if len(byMethod["initialize"])+len(byMethod["server/discover"]) == 0 {
		t.Errorf("no handshake recorded: %v", byMethod)
	}
	tools := byMethod[monitor.MethodToolsCall]
	if len(tools) != 3 {
		t.Fatalf("%d tools/call recorded, want 3: %+v", len(tools), tools)
	}
	// Newest first.
	unknown, failed, stored := tools[0], tools[1], tools[2]
	if !stored.OK() || stored.Tool != "enhanced_memory" {
		t.Errorf("the store: %+v", stored)
	}
	if failed.ErrorType != monitor.ErrorTypeTool || failed.Error == "" {
		t.Errorf("the failed retrieve: %+v", failed)
	}
	if !unknown.UnknownTool || unknown.Tool != "no_such_tool" || unknown.OK() || !strings.Contains(unknown.Error, "no_such_tool") {
		t.Errorf("the unknown tool: %+v", unknown)
	}
	if _, ok := report.Latest(e.m).ToolMetrics["no_such_tool"]; ok {
		t.Error("an unknown tool got metrics of its own")
	}
}

// TestErrorTypeIsTheCodeOnTheWire checks that the error type recorded is
// the code the client gets, plain errors included.
func TestErrorTypeIsTheCodeOnTheWire(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{errors.New("boom"), "-32603"},
		{&jsonrpc.Error{Code: -32602, Message: "bad"}, "-32602"},
		{context.Canceled, monitor.ErrorTypeCancelled},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), monitor.ErrorTypeCancelled},
	} {
		if got := mcpserver.ErrorType(nil, tt.err); got != tt.want {
			t.Errorf("ErrorType(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
