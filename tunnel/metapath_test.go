package tunnel

import (
	"bytes"
	"errors"
	"testing"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/jsonmeta"
)

// metaPathSeeds are requests at the edges of where params._meta can be.
var metaPathSeeds = []string{
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"},"_meta":{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"progressToken":1},"name":"echo"}}`,
	`{"jsonrpc":"2.0","id":1,"method":"ping"}`,
	`{"jsonrpc":"2.0","id":1,"method":"ping","params":null}`,
	`{"jsonrpc":"2.0","id":1,"method":"ping","params":[1,2]}`,
	`{"jsonrpc":"2.0","id":1,"method":"ping","params":{}}`,
	`{"jsonrpc":"2.0","id":1,"method":"ping","params":{ }}`,
	`{"jsonrpc":"2.0","id":1,"method":"x","params":{"_meta":null}}`,
	`{"jsonrpc":"2.0","id":1,"method":"x","params":{"_meta":[]}}`,
	`{"jsonrpc":"2.0","id":1,"method":"x","params":{"_meta":{ }}}`,
	`{"jsonrpc":"2.0","id":1,"method":"x","params":{"_meta":{"a":1},"_meta":{"traceparent":"t"}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"x","params":{"_meta":{"traceparent":"a"},"_meta":null}}`,
	`{"params":{"_meta":{"traceparent":"old"}},"params":{"name":"n"}}`,
	`{"params":{"name":"n"},"params":{"_meta":{"traceparent":"new"}}}`,
	`{"par\u0061ms":{"_m\u0065ta":{"trace\u0070arent":"esc","tracestate":"a=b","baggage":"k=v"}}}`,
	`{"params":{"_meta":{"traceparent":{"not":"a string"},"tracestate":7,"baggage":"k=v\u00e9"}}}`,
	`{"params":{"_meta":{"traceparent":"x","traceparent":"y"}}}`,
	`{"params":{"_meta":{"traceparent":"x","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}}`,
	`{"params":{"_meta":{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},"_meta":{"tracestate":"a"}}}`,
	` { "params" : { "_meta" : { "traceparent" : "x" } , "arguments" : [ { } ] } } `,
	`{}`,
	`{"id":1,"method":"tools/call","params":{"arguments":{"deep":[[[[{"_meta":{"traceparent":"inner"}}]]]]}}}`,
	`[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","_meta":{"traceparent":"in a batch"}}}]`,
	` [ {"id":1,"method":"ping","params":{}} ] `,
}

// FuzzMetaPath: where the tunnel's reading of a message says params._meta
// lies, jsonmeta.Doc.ReadPath finds what Read finds reading the whole
// message: the same error, the same values, the same rewrite. A batch of
// one is its line's one message too (hop.raw), and Read finds no message
// to rewrite in it.
func FuzzMetaPath(f *testing.F) {
	for _, s := range metaPathSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		msgs, err := decode(data, nil)
		if err != nil || len(msgs) != 1 {
			return
		}
		var whole, path jsonmeta.Doc
		errW := whole.Read(data, metaKeys[:]...)
		errP := path.ReadPath(data, &msgs[0].path, metaKeys[:]...)
		if (errW == nil) != (errP == nil) || errors.Is(errW, jsonmeta.ErrNotObject) != errors.Is(errP, jsonmeta.ErrNotObject) {
			t.Fatalf("%q: Read says %v, ReadPath %v (path %+v)", data, errW, errP, msgs[0].path)
		}
		if errW != nil {
			return
		}
		for j := range metaKeys {
			if w, p := whole.Value(j), path.Value(j); w != p {
				t.Fatalf("%q: %s is %q read whole, %q from the path", data, metaKeys[j], w, p)
			}
		}
		for _, values := range [][]string{
			{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "", ""},
			{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "a=b", "k=v"},
		} {
			w, errW := whole.Set(values...)
			p, errP := path.Set(values...)
			if !bytes.Equal(w, p) || (errW == nil) != (errP == nil) {
				t.Fatalf("%q: set read whole %q (%v), from the path %q (%v)", data, w, errW, p, errP)
			}
		}
		// In place, as tracing hands on its context: a traceparent of the
		// same length over the client's.
		other := "00-11111111111111111111111111111111-2222222222222222-01"
		wm, pm := bytes.Clone(data), bytes.Clone(data)
		var wd, pd jsonmeta.Doc
		if wd.Read(wm, metaKeys[:]...) != nil || pd.ReadPath(pm, &msgs[0].path, metaKeys[:]...) != nil {
			t.Fatalf("%q: read again, an error", data)
		}
		if wo, po := wd.Overwrite(other, "", ""), pd.Overwrite(other, "", ""); wo != po || !bytes.Equal(wm, pm) {
			t.Fatalf("%q: overwritten read whole %v %q, from the path %v %q", data, wo, wm, po, pm)
		}
	})
}

// TestMetaPathNotValid: a message the tunnel did not read whole (a line
// too long to hold, say) has no Path, and is read whole.
func TestMetaPathNotValid(t *testing.T) {
	msg := []byte(metaPathSeeds[0])
	var d jsonmeta.Doc
	if err := d.ReadPath(msg, &jsonmeta.Path{}, metaKeys[:]...); err != nil || d.Value(0) == "" {
		t.Fatalf("ReadPath with no Path: %v, traceparent %q", err, d.Value(0))
	}
}
