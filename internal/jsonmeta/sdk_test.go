package jsonmeta_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/jsonmeta"
)

// TestSDKReadsTheSame sends raw tools/call requests to a go-sdk server and
// checks that the traceparent its tool handler sees is the one Get reads,
// and the one Set wrote: the rules in the package documentation are the
// SDK's, duplicates and spellings included.
func TestSDKReadsTheSame(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	seen := make(chan string, 1)
	server := mcp.NewServer(&mcp.Implementation{Name: "probe", Version: "1"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "probe"}, func(_ context.Context, req *mcp.CallToolRequest, _ struct {
		X any `json:"x,omitempty"`
	}) (*mcp.CallToolResult, any, error) {
		v, ok := req.Params.Meta["traceparent"]
		if !ok {
			v = ""
		}
		s, _ := v.(string) // not a string: Get's ""
		seen <- s
		return &mcp.CallToolResult{}, nil, nil
	})
	st, ct := mcp.NewInMemoryTransports()
	ss, err := server.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	conn, err := ct.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	id := 0
	// call sends raw as it is and waits for the response to it.
	call := func(raw string) *jsonrpc.Response {
		t.Helper()
		msg, err := jsonrpc.DecodeMessage([]byte(raw))
		if err != nil {
			t.Fatalf("DecodeMessage(%s): %v", raw, err)
		}
		if err := conn.Write(ctx, msg); err != nil {
			t.Fatal(err)
		}
		if req, ok := msg.(*jsonrpc.Request); ok && !req.IsCall() {
			return nil
		}
		for {
			m, err := conn.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if r, ok := m.(*jsonrpc.Response); ok {
				return r
			}
		}
	}
	call(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`)
	call(`{"jsonrpc":"2.0","method":"notifications/initialized","params":{}}`)

	// Each body is the rest of a tools/call request after its id.
	for _, body := range []string{
		`"method":"tools/call","params":{"name":"probe","arguments":{}}`,
		`"method":"tools/call","params":{"_meta":{"traceparent":"a"},"name":"probe"}`,
		`"method":"tools/call","params":{"_meta":{"trace\u0070arent":"a\u00e9"},"name":"probe"}`,
		`"method":"tools/call","params":{"_meta":null,"name":"probe"}`,
		`"method":"tools/call","params":{"_meta":{"traceparent":1},"name":"probe"}`,
		`"method":"tools/call","params":{"_meta":{"traceparent":"a","traceparent":"b"},"name":"probe"}`,
		`"method":"tools/call","params":{"_meta":{"traceparent":"a"},"_meta":{"x":1},"name":"probe"}`,
		`"method":"tools/call","params":{"_meta":{"traceparent":"a"},"_meta":null,"_meta":{},"name":"probe"}`,
		`"method":"tools/call","params":{"_Meta":{"traceparent":"a"},"_meta":{"Traceparent":"b"},"name":"probe"}`,
		`"method":"tools/call","params":{"_meta":{"traceparent":"a"},"name":"probe"},"Params":{"_meta":{"traceparent":"b"},"name":"probe"}`,
		`"method":"tools/call","params":{"_meta":{"traceparent":"a"},"name":"probe"},"params":{"name":"probe"}`,
		`"method":"tools/call","params":[1],"params":{"_meta":{"traceparent":"a"},"name":"probe"}`,
		`"method":"tools/call","par\u0061ms":{"\u005fmeta":{"traceparent":"a"},"name":"probe"}`,
		`"method":"tools/call","params":{"arguments":{"x":{"_meta":{"traceparent":"a"}}},"name":"probe"}`,
	} {
		raw := func() string { id++; return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,%s}`, id, body) }

		in := raw()
		vals, err := jsonmeta.Get([]byte(in), "traceparent")
		if err != nil {
			t.Fatalf("Get(%s): %v", in, err)
		}
		if got := probe(t, call, seen, in); got != vals[0] {
			t.Errorf("%s: the SDK reads traceparent %q, Get %q", in, got, vals[0])
		}

		const want = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
		out, err := jsonmeta.Set([]byte(raw()), jsonmeta.KV{Key: "traceparent", Value: want})
		if err != nil {
			t.Fatalf("Set(%s): %v", in, err)
		}
		if got := probe(t, call, seen, string(out)); got != want {
			t.Errorf("Set(%s) = %s: the SDK reads traceparent %q", in, out, got)
		}
	}
}

// probe sends the tools/call request raw and returns the traceparent the
// tool handler saw.
func probe(t *testing.T, call func(string) *jsonrpc.Response, seen chan string, raw string) string {
	t.Helper()
	resp := call(raw)
	if resp.Error != nil {
		t.Fatalf("%s: %v", raw, resp.Error)
	}
	if strings.Contains(string(resp.Result), `"isError":true`) {
		t.Fatalf("%s: %s", raw, resp.Result)
	}
	select {
	case s := <-seen:
		return s
	default:
		t.Fatalf("%s: the tool was not called", raw)
		return ""
	}
}
