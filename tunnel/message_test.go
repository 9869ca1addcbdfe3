package tunnel

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDecode(t *testing.T) {
	type got struct {
		Kind    kind
		ID      string
		Method  string
		Tool    string
		ErrType string
		Cancels string
	}
	tests := []struct {
		name    string
		in      string
		want    []got
		wantErr bool
	}{
		{name: "request", in: `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"x":[1,2]}}}`,
			want: []got{{Kind: kindRequest, ID: "7", Method: "tools/call", Tool: "echo"}}},
		{name: "string id kept raw", in: ` {"id": "a\"b" , "method":"ping"}` + "\r\n",
			want: []got{{Kind: kindRequest, ID: `"a\"b"`, Method: "ping"}}},
		{name: "cancellation", in: `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"r-7","reason":"stop"}}`,
			want: []got{{Kind: kindNotification, Method: "notifications/cancelled", Cancels: `"r-7"`}}},
		{name: "notification", in: `{"jsonrpc":"2.0","method":"notifications/initialized"}`,
			want: []got{{Kind: kindNotification, Method: "notifications/initialized"}}},
		{name: "null id is no request", in: `{"jsonrpc":"2.0","id":null,"method":"x"}`,
			want: []got{{Kind: kindNotification, ID: "null", Method: "x"}}},
		{name: "result", in: `{"jsonrpc":"2.0","id":1,"result":{"content":[]}}`,
			want: []got{{Kind: kindResponse, ID: "1"}}},
		{name: "tool error", in: `{"jsonrpc":"2.0","id":1,"result":{"content":[],"isError":true}}`,
			want: []got{{Kind: kindResponse, ID: "1", ErrType: "tool_error"}}},
		{name: "rpc error", in: `{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no"}}`,
			want: []got{{Kind: kindResponse, ID: "1", ErrType: "-32601"}}},
		{name: "error without code", in: `{"jsonrpc":"2.0","id":1,"error":{"message":"no"}}`,
			want: []got{{Kind: kindResponse, ID: "1", ErrType: "error"}}},
		{name: "params by position", in: `{"jsonrpc":"2.0","id":2,"method":"m","params":[1,2]}`,
			want: []got{{Kind: kindRequest, ID: "2", Method: "m"}}},
		{name: "batch", in: `[{"id":1,"method":"ping"},{"method":"n"},{"id":"r","result":{}}]`,
			want: []got{{Kind: kindRequest, ID: "1", Method: "ping"}, {Kind: kindNotification, Method: "n"}, {Kind: kindResponse, ID: `"r"`}}},
		{name: "batch with a stray element", in: `[{"id":1,"method":"ping"},42]`,
			want: []got{{Kind: kindRequest, ID: "1", Method: "ping"}, {Kind: kindOther}}},
		{name: "not JSON", in: `hello`, wantErr: true},
		{name: "truncated", in: `{"id":1,"method":"pi`, wantErr: true},
		{name: "a number", in: `42`, wantErr: true},
		{name: "empty batch", in: `[]`, wantErr: true},
		{name: "blank", in: " \r\n", wantErr: true},
	}
	var buf []message
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, err := decode([]byte(tt.in), buf)
			buf = msgs // reused, as the relay does: nothing may leak between lines
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			var out []got
			for i := range msgs {
				m := &msgs[i]
				out = append(out, got{Kind: m.kind(), ID: string(m.ID), Method: m.Method, Tool: m.toolName(), ErrType: m.errorType(), Cancels: string(m.cancelID)})
			}
			if diff := cmp.Diff(tt.want, out); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestErrorResponse(t *testing.T) {
	got := string(errorResponse([]byte(`"a-1"`), -32000, `exited: "quoted"`))
	want := `{"jsonrpc":"2.0","id":"a-1","error":{"code":-32000,"message":"exited: \"quoted\""}}` + "\n"
	if got != want {
		t.Errorf("errorResponse = %s, want %s", got, want)
	}
}

// reference decodes like decode, but with encoding/json, member by member
// with exact keys (as JSON-RPC has them, where encoding/json's structs would
// also take "ID" for "id").
func reference(data []byte) ([]message, bool) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if !json.Valid(data) || len(trimmed) == 0 {
		return nil, false
	}
	var elems []json.RawMessage
	switch trimmed[0] {
	case '{':
		elems = []json.RawMessage{trimmed}
	case '[':
		if err := json.Unmarshal(data, &elems); err != nil || len(elems) == 0 {
			return nil, false
		}
	default:
		return nil, false
	}
	members := func(raw []byte) map[string]json.RawMessage {
		var m map[string]json.RawMessage
		if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
			return nil
		}
		return m
	}
	isNumber := func(raw []byte) bool { return len(raw) > 0 && (raw[0] == '-' || '0' <= raw[0] && raw[0] <= '9') }
	var out []message
	for _, e := range elems {
		var m message
		top := members(e)
		if id, ok := top["id"]; ok {
			m.ID = id
		}
		_ = json.Unmarshal(top["method"], &m.Method)
		if id, ok := members(top["params"])["requestId"]; ok {
			m.cancelID = id
		}
		if name, ok := members(top["params"])["name"]; ok && name[0] == '"' {
			m.tool = name[1 : len(name)-1]
			// Escapes and bytes beyond ASCII take unquote's slow path.
			m.toolEsc = bytes.ContainsFunc(m.tool, func(r rune) bool { return r == '\\' || r >= 0x80 })
		}
		if res, ok := top["result"]; ok && string(res) != "null" {
			m.hasResult = true
			r := members(res)
			m.isError = string(r["isError"]) == "true"
			m.protocolVersion, m.serverInfo = r["protocolVersion"], r["serverInfo"]
		}
		if e, ok := top["error"]; ok && string(e) != "null" {
			m.hasError = true
			if code := members(e)["code"]; isNumber(code) {
				m.code = code
			}
		}
		out = append(out, m)
	}
	return out, true
}

func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"x":[1,2.5e3,-0]}}}`,
		`{"jsonrpc":"2.0","id":"a\"b","result":{"content":[],"isError":true,"serverInfo":{"name":"s"},"protocolVersion":"2025-06-18"}}`,
		`[{"id":1,"method":"ping"},{"method":"n\u0061me"},{"id":"r","error":{"code":-32601,"message":"no"}},42]`,
		`{"\u0069d":1,"METHOD":"x","method":null,"params":[1],"result":null,"error":{"code":"1"}}`,
		`{"id":1,"id":2,"result":{"isError":true},"result":{}}`,
		`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId": "a\u0062" ,"reason":"user"}}`,
		` [ ] `, `{`, `{"a":tru}`, `{"a":01}`, `{"a":"\x"}`, "{\"a\":\"\x01\"}", `{"a":1,}`, `nul`, `{} {}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want, valid := reference(data)
		got, err := decode(data, nil)
		if (err == nil) != valid {
			t.Fatalf("decode error %v, want valid=%v, for %q", err, valid, data)
		}
		if !valid {
			return
		}
		if len(got) != len(want) {
			t.Fatalf("%d messages, want %d, for %q", len(got), len(want), data)
		}
		for i := range got {
			g, w := got[i], want[i]
			if !bytes.Equal(g.ID, w.ID) || g.Method != w.Method || g.toolName() != w.toolName() || !bytes.Equal(g.cancelID, w.cancelID) ||
				g.kind() != w.kind() || g.errorType() != w.errorType() ||
				!bytes.Equal(g.protocolVersion, w.protocolVersion) || !bytes.Equal(g.serverInfo, w.serverInfo) {
				t.Fatalf("message %d of %q:\n got %+v\nwant %+v", i, data, g, w)
			}
		}
	})
}

func TestDecodeDepth(t *testing.T) {
	for _, depth := range []int{maxDepth - 1, maxDepth, maxDepth + 1} {
		data := []byte(strings.Repeat("[", depth) + strings.Repeat("]", depth))
		_, err := decode(data, nil)
		if (err == nil) != json.Valid(data) {
			t.Errorf("depth %d: decode error %v, json.Valid %v", depth, err, json.Valid(data))
		}
	}
}

func TestDecodeAllocations(t *testing.T) {
	line := []byte(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"a short answer"}}}`)
	msgs := make([]message, 0, 1)
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		if msgs, err = decode(line, msgs); err != nil || msgs[0].Method != "tools/call" {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Errorf("decode allocates %v times per request, want 0", allocs)
	}
}
