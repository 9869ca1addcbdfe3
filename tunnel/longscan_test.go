package tunnel

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// longRead is what a test compares of a message.
type longRead struct {
	Kind                              kind
	ID                                string
	IDCut                             bool
	Method, Tool, Cancels, ErrType    string
	ProtocolVersion, ServerInfo, Code string
}

func readOf(m *message) longRead {
	return longRead{Kind: m.kind(), ID: string(m.ID), IDCut: m.idCut, Method: m.Method, Tool: m.toolName(),
		Cancels: string(m.cancelID), ErrType: m.errorType(), ProtocolVersion: string(m.protocolVersion),
		ServerInfo: string(m.serverInfo), Code: string(m.code)}
}

// scanPieces runs a longScanner over data cut into pieces of the given
// sizes (the last size repeating), as the relay hands a long line on.
func scanPieces(l *longScanner, data []byte, sizes []int) ([]longRead, error) {
	var out []longRead
	emit := func(m *message) { out = append(out, readOf(m)) }
	l.reset()
	for i := 0; len(data) > 0; i++ {
		n := min(sizes[min(i, len(sizes)-1)], len(data))
		l.feed(data[:n], emit)
		data = data[n:]
	}
	return out, l.finish(emit)
}

func TestLongScanner(t *testing.T) {
	huge := strings.Repeat("z", 3*maxLongField)
	longID := `"` + strings.Repeat("i", maxLongField) + `"`
	tests := []struct {
		name    string
		in      string
		want    []longRead
		wantErr error
	}{
		{name: "id after a huge result", in: `{"jsonrpc":"2.0","result":{"content":[{"type":"text","text":"` + huge + `"}],"isError":true},"id":"late"}` + "\n",
			want: []longRead{{Kind: kindResponse, ID: `"late"`, ErrType: monitor.ErrorTypeTool}}},
		{name: "id first", in: `{"id":7,"result":{"text":"` + huge + `"}}`,
			want: []longRead{{Kind: kindResponse, ID: "7"}}},
		{name: "request with huge arguments", in: `{"jsonrpc":"2.0","id":[1,{"a":2}],"method":"tools/call","params":{"arguments":{"t":"` + huge + `"},"name":"ec\u0068o"}}`,
			want: []longRead{{Kind: kindRequest, ID: `[1,{"a":2}]`, Method: "tools/call", Tool: "echo"}}},
		{name: "escaped keys", in: `{"\u0069d" : 3 , "err\u006fr":{"message":"` + huge + `","code":-32602}}`,
			want: []longRead{{Kind: kindResponse, ID: "3", ErrType: "-32602", Code: "-32602"}}},
		{name: "keys that only look alike", in: `{"ID":3,"idx":4,"i\u00e4":5,"method":"` + huge[:10] + `","params":{"x":{"name":"no"}}}`,
			want: []longRead{{Kind: kindNotification, Method: huge[:10]}}},
		{name: "initialize result", in: `{"id":1,"result":{"protocolVersion":"2025-06-18","serverInfo":{"name":"s","version":"1"},"instructions":"` + huge + `"}}`,
			want: []longRead{{Kind: kindResponse, ID: "1", ProtocolVersion: `"2025-06-18"`, ServerInfo: `{"name":"s","version":"1"}`}}},
		{name: "cancellation", in: `{"method":"notifications/cancelled","params":{"reason":"` + huge + `","requestId":"r 1"}}`,
			want: []longRead{{Kind: kindNotification, Method: "notifications/cancelled", Cancels: `"r 1"`}}},
		{name: "batch", in: `[{"id":1,"result":{"t":"` + huge + `"}}, 42 ,{"id":2,"error":{"code":-1e3}},[{"id":3}]]`,
			want: []longRead{{Kind: kindResponse, ID: "1"}, {}, {Kind: kindResponse, ID: "2", ErrType: "-1e3", Code: "-1e3"}, {}}},
		{name: "last member wins", in: `{"id":1,"id":2,"result":{"isError":true},"result":{"x":"` + huge + `"},"error":null}`,
			want: []longRead{{Kind: kindResponse, ID: "2"}}},
		{name: "id too long to keep", in: `{"id":` + longID + `,"result":{}}`,
			want: []longRead{{Kind: kindResponse, IDCut: true}}},
		{name: "method cut before a split escape", in: `{"method":"` + strings.Repeat("m", maxLongField-4) + `\u00e9` + huge + `"}`,
			want: []longRead{{Kind: kindNotification, Method: strings.Repeat("m", maxLongField-4)}}},
		{name: "blank", in: "   \r\n", wantErr: errBlank},
		{name: "not an object", in: `"` + huge + `"`, wantErr: errNotMessage},
		{name: "empty batch", in: ` [ ] `, wantErr: errNotMessage},
		{name: "cut short", in: `{"id":1,"result":"` + huge, wantErr: errSyntax},
		{name: "trailing bytes", in: `{"id":1,"result":"` + huge + `"} x`, wantErr: errSyntax},
		{name: "control byte in a string", in: `{"id":1,"result":"` + huge + "\x01\"}", wantErr: errSyntax},
		{name: "bad escape", in: `{"id":1,"result":"` + huge + `\x"}`, wantErr: errSyntax},
		{name: "leading zero", in: `{"id":01,"result":"` + huge + `"}`, wantErr: errSyntax},
		{name: "too deep", in: `{"x":"` + huge + `","y":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`, wantErr: errSyntax},
	}
	var l longScanner // reused, as the relay does: nothing may leak between lines
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, sizes := range [][]int{{len(tt.in)}, {1}, {maxLongField - 1, 7}} {
				got, err := scanPieces(&l, []byte(tt.in), sizes)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("pieces %v: err = %v, want %v", sizes, err, tt.wantErr)
				}
				if tt.wantErr != nil {
					continue
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("pieces %v (-want +got):\n%s", sizes, diff)
				}
			}
		})
	}
}

// FuzzLongScanner checks that the scanner of long lines accepts what
// decode accepts, and reads the same, wherever the line is cut.
func FuzzLongScanner(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"x":[1,2.5e3,-0]}}}`,
		`{"jsonrpc":"2.0","result":{"content":[],"isError":true,"serverInfo":{"name":"s"},"protocolVersion":"2025-06-18"},"id":"a\"b"}`,
		`[{"id":1,"method":"ping"},{"method":"n\u0061me"},{"id":"r","error":{"code":-32601,"message":"no"}},42]`,
		`{"\u0069d":1,"METHOD":"x","method":null,"params":[1],"result":null,"error":{"code":"1"}}`,
		`{"id":1,"id":2,"result":{"isError":true},"result":{}}`,
		`{"method":"notifications/cancelled","params":{"requestId":{"a":[1]},"reason":"x"}}`,
		`{"params":{"name":"\u00e9\ud83d\ude00","name":1}}`,
		` [ ] `, `{`, `{"a":tru}`, `{"a":01}`, `{"a":"\x"}`, "{\"a\":\"\x01\"}", `{"a":1,}`, `nul`, `{} {}`, ` `, `[1e+]`, `{"a":-}`,
	} {
		f.Add([]byte(seed), []byte{3, 1, 7})
	}
	var l longScanner
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		if len(data) > 4*maxLongField {
			return // the fields kept are cut past maxLongField
		}
		sizes := []int{len(data)}
		if len(cuts) > 0 {
			sizes = sizes[:0]
			for _, c := range cuts {
				sizes = append(sizes, int(c)+1)
			}
		}
		got, err := scanPieces(&l, data, sizes)
		msgs, derr := decode(data, nil)
		if (err == nil) != (derr == nil) {
			t.Fatalf("longScanner error %v, decode error %v, for %q", err, derr, data)
		}
		if errors.Is(err, errBlank) != (derr != nil && isBlank(data)) {
			t.Fatalf("longScanner error %v, blank %v, for %q", err, isBlank(data), data)
		}
		if derr != nil {
			return
		}
		var want []longRead
		for i := range msgs {
			want = append(want, readOf(&msgs[i]))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("for %q cut %v (-decode +longScanner):\n%s", data, sizes, diff)
		}
	})
}

func TestLongScannerKeepsLittle(t *testing.T) {
	// However long the line, the scanner's buffers stay within their
	// bounds: each field's capture at most maxLongField.
	var l longScanner
	big := bytes.Repeat([]byte(`{"id":"`+strings.Repeat("x", 2*maxLongField)+`","result":{"serverInfo":{"n":"`+strings.Repeat("y", 2*maxLongField)+`"}}},`), 64)
	line := append(append([]byte{'['}, big[:len(big)-1]...), ']')
	got, err := scanPieces(&l, line, []int{1000})
	if err != nil || len(got) != 64 {
		t.Fatalf("got %d messages, %v", len(got), err)
	}
	for r := range l.caps {
		if c := cap(l.caps[r].buf); c > 2*maxLongField {
			t.Errorf("capture %d holds %d bytes", r, c)
		}
	}
}

// BenchmarkLongLine compares reading a 16 MiB response as a line over the
// limit, in the relay's 64 KiB pieces, with decoding it whole, as a line
// within the limit is.
func BenchmarkLongLine(b *testing.B) {
	line := []byte(`{"jsonrpc":"2.0","result":{"content":[{"type":"text","text":"` +
		strings.Repeat("lorem ipsum \\\"dolor\\\" sit amet, ", (16<<20)/32) + `"}],"isError":false},"id":42}` + "\n")
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		var msgs []message
		for b.Loop() {
			var err error
			if msgs, err = decode(line, msgs); err != nil || string(msgs[0].ID) != "42" {
				b.Fatal(err)
			}
		}
	})
	b.Run("longScanner", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		var l longScanner
		for b.Loop() {
			got, err := scanPieces(&l, line, []int{readBufferSize})
			if err != nil || got[0].ID != "42" {
				b.Fatal(err)
			}
		}
	})
}
