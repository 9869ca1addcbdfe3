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
