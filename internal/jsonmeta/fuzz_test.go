package jsonmeta

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

func FuzzSet(f *testing.F) {
	for _, c := range setCases {
		f.Add([]byte(c.in), "traceparent", tp)
	}
	f.Add([]byte(`{"params":{"_meta":{"traceparent":"`+tp+`","tracestate":"u"}}}`), "k", "v")
	f.Add([]byte(`{"params":{"_meta":{"traceparent":"`+tp+`","k":"w","tracestate":"u"},"_meta":{}}}`), "k", "v")
	// Values Overwrite writes in place: one with escapes over a plain
	// one, a string over a number.
	f.Add([]byte(`{"params":{"_meta":{"k":"abcd","tracestate":"u"}}}`), "k", `a"b`)
	f.Add([]byte(`{"params":{"_meta":{"traceparent":`+strings.Repeat("1", len(tp)+2)+`}}}`), "k", "v")
	f.Add([]byte(`{"params":{"_meta":{"k\u00e9\ud83d\ude00":"v"}}}`), "ké😀", "x")
	f.Add([]byte(`{"params":{"_meta":{"\ud800":"v"}}}`), "\ufffd", "y")
	f.Add([]byte("{\"params\":{\"_meta\":{\"\xff\":1}}}"), "\xff", "\xfe")
	f.Fuzz(func(t *testing.T, msg []byte, key, value string) {
		checkSet(t, msg, []KV{{key, value}})
		checkSet(t, msg, []KV{{key, value}, {"tracestate", "t"}, {"traceparent", value}, {key, "last"}})
		checkGet(t, msg, key)
		checkDoc(t, msg, key, value)
	})
}

// checkDoc: a Doc gives what Get and Set give, in one parse: the values
// of its keys, and the edit of those given a value.
func checkDoc(t *testing.T, msg []byte, key, value string) {
	keys := []string{"traceparent", key, "tracestate"}
	var d Doc
	err := d.Read(msg, keys...)
	vals, gerr := Get(msg, keys...)
	if (err == nil) != (gerr == nil) {
		t.Fatalf("Doc.Read(%s): %v; Get: %v", short(msg), err, gerr)
	}
	for j := range keys {
		if err == nil && d.Value(j) != vals[j] {
			t.Fatalf("Doc.Value(%q) of %s = %q; Get %q", keys[j], short(msg), d.Value(j), vals[j])
		}
		if b, ok := d.Plain(j); ok && string(b) != d.Value(j) {
			t.Fatalf("Doc.Plain(%q) of %s = %q; Value %q", keys[j], short(msg), b, d.Value(j))
		}
	}
	for _, values := range [][]string{{tp, "", ""}, {"", value, "t"}, {tp, value, "t"}} {
		got, err := d.Set(values...)
		var kv []KV
		for j, v := range values {
			if v != "" {
				kv = append(kv, KV{keys[j], v})
			}
		}
		want, werr := Set(msg, kv...)
		if (err == nil) != (werr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("Doc.Set(%q) of %s = %s, %v; Set %s, %v", values, short(msg), got, err, want, werr)
		}
		checkOverwrite(t, msg, keys, values, want)
	}
}

// checkOverwrite: Overwrite, when it can, makes of the message what Set
// returns (want), and else leaves every byte of it as it was.
func checkOverwrite(t *testing.T, msg []byte, keys, values []string, want []byte) {
	in := bytes.Clone(msg)
	var d Doc
	if d.Read(in, keys...) != nil {
		if d.Overwrite(values...) || !bytes.Equal(in, msg) {
			t.Fatalf("Overwrite(%q) of %s, not read: %s", values, short(msg), in)
		}
		return
	}
	if !d.Overwrite(values...) {
		if !bytes.Equal(in, msg) {
			t.Fatalf("Overwrite(%q) of %s refused, yet made it %s", values, short(msg), in)
		}
		return
	}
	if !bytes.Equal(in, want) {
		t.Fatalf("Overwrite(%q) of %s = %s; Set %s", values, short(msg), in, want)
	}
	// The Doc reads on as one read anew from the message it wrote.
	var fresh Doc
	if err := fresh.Read(in, keys...); err != nil {
		t.Fatalf("Overwrite(%q) of %s made %s, which does not read: %v", values, short(msg), in, err)
	}
	for j := range keys {
		got, gotOK := d.Plain(j)
		exp, expOK := fresh.Plain(j)
		if d.Value(j) != fresh.Value(j) || !bytes.Equal(got, exp) || gotOK != expOK {
			t.Fatalf("after Overwrite(%q) of %s, %q is %q (plain %q %v); read anew %q (plain %q %v)",
				values, short(msg), keys[j], d.Value(j), got, gotOK, fresh.Value(j), exp, expOK)
		}
	}
	again := []string{"t", values[0], tp}
	got, err := d.Set(again...)
	exp, eerr := fresh.Set(again...)
	if !bytes.Equal(got, exp) || (err == nil) != (eerr == nil) {
		t.Fatalf("Set(%q) after Overwrite(%q) of %s = %s, %v; read anew %s, %v", again, values, short(msg), got, err, exp, eerr)
	}
	// And overwrites again as that Doc does.
	in2 := bytes.Clone(in)
	var fresh2 Doc
	_ = fresh2.Read(in2, keys...)
	if a, b := d.Overwrite(again...), fresh2.Overwrite(again...); a != b || !bytes.Equal(in, in2) {
		t.Fatalf("Overwrite(%q) after Overwrite(%q) of %s = %v %s; read anew %v %s", again, values, short(msg), a, in, b, in2)
	}
}

// checkGet compares Get with encoding/json where the two must agree, and
// with the SDK's choice of the params member.
func checkGet(t *testing.T, msg []byte, key string) {
	got, err := Get(msg, key)
	if err != nil {
		return // checkSet has checked which errors are right
	}
	if !hasDuplicateNames(msg) {
		var m map[string]any
		if decode(t, msg, &m) == nil {
			params, _ := m["params"].(map[string]any)
			meta, _ := params["_meta"].(map[string]any)
			want, _ := meta[norm(key)].(string)
			if got[0] != want {
				t.Fatalf("Get(%s, %q) = %q; encoding/json reads %q", short(msg), key, got[0], want)
			}
		}
	}
	// The SDK's envelope decoder picks the params; Get must read the same
	// _meta from them alone.
	r, err := jsonrpc.DecodeMessage(msg)
	if err != nil {
		return
	}
	req, ok := r.(*jsonrpc.Request)
	if !ok {
		return
	}
	alone := []byte(`{}`)
	if len(req.Params) > 0 {
		alone = append(append([]byte(`{"params":`), req.Params...), '}')
	}
	got2, err := Get(alone, key)
	if err != nil && !errors.Is(err, ErrNotObject) || !reflect.DeepEqual(got, got2) {
		t.Fatalf("Get(%s, %q) = %q; from the params the SDK decodes, %s, %q, %v", short(msg), key, got, short(alone), got2, err)
	}
	if bytes.Contains(msg, []byte("\"Params\"")) && len(req.Params) == 0 && got[0] != "" {
		t.Fatalf("Get(%s) read Params", short(msg))
	}
}
