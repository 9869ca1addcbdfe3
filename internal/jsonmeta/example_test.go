package jsonmeta_test

import (
	"fmt"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/jsonmeta"
)

func ExampleSet() {
	msg := []byte(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`)
	out, err := jsonmeta.Set(msg,
		jsonmeta.KV{Key: "traceparent", Value: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
		jsonmeta.KV{Key: "tracestate", Value: "vendor=x"})
	if err != nil {
		fmt.Println(err) // relay msg as it is
		return
	}
	fmt.Println(string(out))

	vals, _ := jsonmeta.Get(out, "traceparent", "baggage")
	fmt.Printf("%q\n", vals)
	// Output:
	// {"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"_meta":{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01","tracestate":"vendor=x"},"name":"echo","arguments":{"text":"hi"}}}
	// ["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" ""]
}

func ExampleDoc() {
	msg := []byte(`{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"_meta":{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01","progressToken":3},"name":"echo"}}`)
	var d jsonmeta.Doc
	if err := d.Read(msg, "traceparent", "tracestate"); err != nil {
		fmt.Println(err) // relay msg as it is
		return
	}
	fmt.Printf("caller's traceparent %q, tracestate %q\n", d.Value(0), d.Value(1))
	// The same parse serves the edit: the tracestate stays as it was.
	out, _ := d.Set("00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01", "")
	fmt.Println(string(out))
	// Output:
	// caller's traceparent "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", tracestate ""
	// {"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"_meta":{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01","progressToken":3},"name":"echo"}}
}
