package mcpserver

import (
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// TestResponseHead: the quick read of a message's head agrees with the
// decoder wherever it answers, and answers for what the SDK writes.
func TestResponseHead(t *testing.T) {
	for _, tt := range []struct {
		raw   string
		quick bool // the head alone decides
	}{
		{`{"jsonrpc":"2.0","id":7,"result":{"content":[]}}`, true},
		{`{"jsonrpc":"2.0","id":"a-b","error":{"code":-32602,"message":"x"}}`, true},
		{` { "jsonrpc" : "2.0" , "id" : -3 , "result" : 1 }`, true},
		{`{"jsonrpc":"2.0","method":"notifications/progress","params":{}}`, true},
		{`{"jsonrpc":"2.0","id":4,"method":"sampling/createMessage"}`, true},
		{`{"jsonrpc":"2.0","result":{},"id":9}`, false}, // the id after the result: the decoder reads on
		{`{"id":1,"jsonrpc":"2.0","result":{}}`, true},
		{`{"jsonrpc":"2.0","id":"a\"b","result":{}}`, false}, // escapes
		{`{"jsonrpc":"2.0","id":1.5,"result":{}}`, false},
		{`{"jsonrpc":"2.0","id":99999999999999999999,"result":{}}`, false},
		{`{"jsonrpc":"2.0","id":null,"error":{}}`, false},
		{`{"extra":1,"id":1,"result":{}}`, false},
		{`[{"jsonrpc":"2.0","id":1,"result":{}}]`, false},
		{`not json`, false},
		{``, false},
	} {
		h, ok := readHead([]byte(tt.raw))
		ok = ok && (h.stop == "method" || h.haveID)
		id, isResp := h.id, h.haveID && h.stop != "method"
		if ok != tt.quick {
			t.Errorf("%s: decided %v, want %v", tt.raw, ok, tt.quick)
		}
		if !ok {
			continue
		}
		wantID, wantResp := decodeResponseID([]byte(tt.raw))
		if got, gotResp := responseID([]byte(tt.raw)); got != wantID || gotResp != wantResp {
			t.Errorf("%s: responseID (%v, %v), decoder (%v, %v)", tt.raw, got.Raw(), gotResp, wantID.Raw(), wantResp)
		}
		if !isResp {
			id = jsonrpc.ID{}
		}
		if id != wantID || isResp != wantResp {
			t.Errorf("%s: quick (%v, %v), decoder (%v, %v)", tt.raw, id.Raw(), isResp, wantID.Raw(), wantResp)
		}
	}
}

func TestRequestIDText(t *testing.T) {
	for raw, want := range map[string]string{
		`{"jsonrpc":"2.0","id":7,"method":"tools/call"}`:        "7",
		`{"jsonrpc":"2.0","id":"a-1","method":"ping"}`:          "a-1",
		`{"jsonrpc":"2.0","method":"ping","id":3}`:              "", // the id after the method: not read
		`{"jsonrpc":"2.0","method":"notifications/x"}`:          "",
		`{"jsonrpc":"2.0","id":-9007199254740992,"method":"x"}`: "-9007199254740992",
	} {
		if got := requestIDText([]byte(raw)); got != want {
			t.Errorf("%s: %q, want %q", raw, got, want)
		}
	}
}
