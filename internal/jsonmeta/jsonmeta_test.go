package jsonmeta

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

var setCases = []struct {
	name string
	in   string
	kv   []KV
	want string // "" when err is set
	err  error
}{
	{
		name: "params absent",
		in:   `{"jsonrpc":"2.0","id":1,"method":"ping"}`,
		want: `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"traceparent":"` + tp + `"}}}`,
	},
	{
		name: "params absent, white space around and inside",
		in:   " \n\t{ \"jsonrpc\" : \"2.0\" , \"id\" : 1 , \"method\" : \"ping\" \r\n}\n",
		want: " \n\t{ \"jsonrpc\" : \"2.0\" , \"id\" : 1 , \"method\" : \"ping\" \r\n,\"params\":{\"_meta\":{\"traceparent\":\"" + tp + "\"}}}\n",
	},
	{
		name: "empty message",
		in:   `{ }`,
		want: `{ "params":{"_meta":{"traceparent":"` + tp + `"}}}`,
	},
	{
		name: "params null",
		in:   `{"jsonrpc":"2.0","id":1,"method":"ping","params": null }`,
		want: `{"jsonrpc":"2.0","id":1,"method":"ping","params": {"_meta":{"traceparent":"` + tp + `"}} }`,
	},
	{
		name: "params empty",
		in:   `{"jsonrpc":"2.0","id":1,"method":"ping","params":{ }}`,
		want: `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"traceparent":"` + tp + `"} }}`,
	},
	{
		name: "params with members, _meta absent",
		in:   `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"s":"hi"}}}`,
		want: `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"_meta":{"traceparent":"` + tp + `"},"name":"echo","arguments":{"s":"hi"}}}`,
	},
	{
		name: "_meta null",
		in:   `{"params":{"name":"echo","_meta":null}}`,
		want: `{"params":{"name":"echo","_meta":{"traceparent":"` + tp + `"}}}`,
	},
	{
		name: "_meta empty",
		in:   `{"params":{"_meta":{ },"name":"echo"}}`,
		want: `{"params":{"_meta":{"traceparent":"` + tp + `" },"name":"echo"}}`,
	},
	{
		name: "_meta with other keys",
		in:   `{"params":{"_meta":{"progressToken":7},"name":"echo"}}`,
		want: `{"params":{"_meta":{"traceparent":"` + tp + `","progressToken":7},"name":"echo"}}`,
	},
	{
		name: "_meta with the key",
		in:   `{"params":{"_meta":{"progressToken":7,"traceparent":"00-old-01","x":1}}}`,
		want: `{"params":{"_meta":{"progressToken":7,"traceparent":"` + tp + `","x":1}}}`,
	},
	{
		name: "key with a non-string value",
		in:   `{"params":{"_meta":{"traceparent" : {"a":[1,"}"]} ,"x":1}}}`,
		want: `{"params":{"_meta":{"traceparent" : "` + tp + `" ,"x":1}}}`,
	},
	{
		name: "escaped key",
		in:   `{"params":{"_meta":{"trace\u0070arent":"old"}}}`,
		want: `{"params":{"_meta":{"trace\u0070arent":"` + tp + `"}}}`,
	},
	{
		name: "escaped params and _meta",
		in:   `{"par\u0061ms":{"\u005fmeta":{"a":1}}}`,
		want: `{"par\u0061ms":{"\u005fmeta":{"traceparent":"` + tp + `","a":1}}}`,
	},
	{
		name: "names matched case-sensitively",
		in:   `{"Params":{"_meta":{}},"params":{"_Meta":{"Traceparent":"x"}}}`,
		want: `{"Params":{"_meta":{}},"params":{"_meta":{"traceparent":"` + tp + `"},"_Meta":{"Traceparent":"x"}}}`,
	},
	{
		name: "_meta and braces inside strings and nested values",
		in:   `{"method":"tools/call","x":"\"params\":{","params":{"arguments":{"_meta":{"traceparent":"no"},"s":"{\"_meta\":}","a":[{"_meta":1},[]]},"name":"}{"}}`,
		want: `{"method":"tools/call","x":"\"params\":{","params":{"_meta":{"traceparent":"` + tp + `"},"arguments":{"_meta":{"traceparent":"no"},"s":"{\"_meta\":}","a":[{"_meta":1},[]]},"name":"}{"}}`,
	},
	{
		name: "params nested in another member",
		in:   `{"result":{"params":{"_meta":{}}}}`,
		want: `{"result":{"params":{"_meta":{}}},"params":{"_meta":{"traceparent":"` + tp + `"}}}`,
	},
	{
		name: "notification",
		in:   `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":0.5e1}}`,
		want: `{"jsonrpc":"2.0","method":"notifications/progress","params":{"_meta":{"traceparent":"` + tp + `"},"progressToken":1,"progress":0.5e1}}`,
	},
	{
		name: "response",
		in:   `{"jsonrpc":"2.0","id":"a","result":{"content":[]}}`,
		want: `{"jsonrpc":"2.0","id":"a","result":{"content":[]},"params":{"_meta":{"traceparent":"` + tp + `"}}}`,
	},
	{
		name: "several keys, one present",
		in:   `{"params":{"_meta":{"baggage":"a=1","z":true}}}`,
		kv:   []KV{{"traceparent", tp}, {"tracestate", "k=v"}, {"baggage", "b=2"}},
		want: `{"params":{"_meta":{"traceparent":"` + tp + `","tracestate":"k=v","baggage":"b=2","z":true}}}`,
	},
	{
		name: "several keys, in reverse order of the message",
		in:   `{"params":{"_meta":{"b":1,"a":2}}}`,
		kv:   []KV{{"a", "A"}, {"b", "B"}, {"c", "C"}},
		want: `{"params":{"_meta":{"c":"C","b":"B","a":"A"}}}`,
	},
	{
		name: "same key twice, the later wins",
		in:   `{"params":{}}`,
		kv:   []KV{{"traceparent", "x"}, {"traceparent", "y"}},
		want: `{"params":{"_meta":{"traceparent":"y"}}}`,
	},
	{
		name: "value needing escapes",
		in:   `{}`,
		kv:   []KV{{"k\"", "a\"b\\c\n\x01\xff<é>\u2028"}},
		want: `{"params":{"_meta":{"k\"":"a\"b\\c\n\u0001\ufffd<é>` + "\u2028" + `"}}}`,
	},
	{
		name: "no kv",
		in:   `{"a":1}`,
		kv:   []KV{},
		want: `{"a":1}`,
	},
	{
		name: "duplicate params: the last one is edited",
		in:   `{"params":{"_meta":{"traceparent":"a"}},"params":{"x":1}}`,
		want: `{"params":{"_meta":{"traceparent":"a"}},"params":{"_meta":{"traceparent":"` + tp + `"},"x":1}}`,
	},
	{
		name: "duplicate params, an earlier one an array",
		in:   `{"params":[1],"params":null}`,
		want: `{"params":[1],"params":{"_meta":{"traceparent":"` + tp + `"}}}`,
	},
	{
		name: "duplicate _meta: the key goes into the last",
		in:   `{"params":{"_meta":{"traceparent":"a"},"_meta":{"x":1}}}`,
		want: `{"params":{"_meta":{"traceparent":"a"},"_meta":{"traceparent":"` + tp + `","x":1}}}`,
	},
	{
		name: "duplicate _meta, the last null",
		in:   `{"params":{"_meta":{"traceparent":"a"},"_meta":null}}`,
		want: `{"params":{"_meta":{"traceparent":"a"},"_meta":{"traceparent":"` + tp + `"}}}`,
	},
	{
		name: "duplicate key in _meta: the last is replaced",
		in:   `{"params":{"_meta":{"traceparent":"a","traceparent":"b"}}}`,
		want: `{"params":{"_meta":{"traceparent":"a","traceparent":"` + tp + `"}}}`,
	},
	{name: "params array", in: `{"method":"m","params":[1,2]}`, err: ErrNotObject},
	{name: "params string", in: `{"params":"x"}`, err: ErrNotObject},
	{name: "_meta array", in: `{"params":{"_meta":[]}}`, err: ErrNotObject},
	{name: "_meta number after an object", in: `{"params":{"_meta":{},"_meta":1}}`, err: ErrNotObject},
	{name: "batch", in: `[{"params":{}}]`, err: ErrNotObject},
	{name: "string message", in: `"x"`, err: ErrNotObject},
	{name: "empty", in: ``, err: ErrSyntax},
	{name: "white space only", in: " \n", err: ErrSyntax},
	{name: "truncated", in: `{"params":{"_meta":{"a":1}`, err: ErrSyntax},
	{name: "trailing comma", in: `{"params":{},}`, err: ErrSyntax},
	{name: "trailing garbage", in: `{} x`, err: ErrSyntax},
	{name: "two values", in: `{}{}`, err: ErrSyntax},
	{name: "bad escape", in: `{"a":"\x"}`, err: ErrSyntax},
	{name: "bad unicode escape", in: `{"a":"\u12G4"}`, err: ErrSyntax},
	{name: "control character", in: "{\"a\":\"\n\"}", err: ErrSyntax},
	{name: "leading zero", in: `{"a":01}`, err: ErrSyntax},
	{name: "bare minus", in: `{"a":-}`, err: ErrSyntax},
	{name: "dot without digits", in: `{"a":1.}`, err: ErrSyntax},
	{name: "bad literal", in: `{"params":nul}`, err: ErrSyntax},
	{name: "single quotes", in: `{'a':1}`, err: ErrSyntax},
	{name: "bad JSON after the edit point", in: `{"params":{},"x":[1,}`, err: ErrSyntax},
	{name: "unclosed nesting", in: `{"x":[[[[{"a":[`, err: ErrSyntax},
	{name: "mismatched brackets", in: `{"x":[}`, err: ErrSyntax},
}

func TestSet(t *testing.T) {
	for _, c := range setCases {
		t.Run(c.name, func(t *testing.T) {
			kv := c.kv
			if kv == nil {
				kv = []KV{{"traceparent", tp}}
			}
			in := []byte(c.in)
			orig := bytes.Clone(in)
			out, err := Set(in, kv...)
			if !bytes.Equal(in, orig) {
				t.Fatalf("Set modified its input")
			}
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("Set(%s) = %s, %v; want error %v", c.in, out, err, c.err)
				}
				if out != nil {
					t.Errorf("Set returned %q with an error", out)
				}
				return
			}
			if err != nil {
				t.Fatalf("Set(%s): %v", c.in, err)
			}
			if string(out) != c.want {
				t.Errorf("Set(%s)\n got %s\nwant %s", c.in, out, c.want)
			}
			checkSet(t, in, kv)
		})
	}
}

func TestGet(t *testing.T) {
	for _, c := range []struct {
		in   string
		keys []string
		want []string
		err  error
	}{
		{`{"params":{"_meta":{"traceparent":"a","tracestate":"b"}}}`, []string{"traceparent", "tracestate", "baggage"}, []string{"a", "b", ""}, nil},
		{`{"params":{"_meta":{"traceparent":1,"x":null}}}`, []string{"traceparent", "x"}, []string{"", ""}, nil},
		{`{"params":{"_meta":{"trace\u0070arent":"\u00e9\ud83d\ude00\n\ud800"}}}`, []string{"traceparent"}, []string{"é😀\n\ufffd"}, nil},
		{"{\"params\":{\"_meta\":{\"k\\u00e9\":\"\xff\"}}}", []string{"ké"}, []string{"\ufffd"}, nil},
		{`{"params":{"_meta":{"a":"x","b":"y"},"_meta":{"a":"z"}}}`, []string{"a", "b"}, []string{"z", "y"}, nil},
		{`{"params":{"_meta":{"a":"x"},"_meta":null,"_meta":{"b":"y"}}}`, []string{"a", "b"}, []string{"", "y"}, nil},
		{`{"params":{"_meta":{"a":"x","a":"w"}}}`, []string{"a"}, []string{"w"}, nil},
		{`{"params":{"_meta":{"a":"x","a":2}}}`, []string{"a"}, []string{""}, nil},
		{`{"params":{"_meta":{"a":"x"}},"params":{}}`, []string{"a"}, []string{""}, nil},
		{`{"params":{"_meta":{"a":"x"}},"Params":{"_meta":{"a":"y"}}}`, []string{"a"}, []string{"x"}, nil},
		{`{"params":{"_Meta":{"a":"y"},"_meta":{"A":"z"}}}`, []string{"a"}, []string{""}, nil},
		{`{"params":{"arguments":{"_meta":{"a":"y"}}}}`, []string{"a"}, []string{""}, nil},
		{`{"id":1}`, []string{"a"}, []string{""}, nil},
		{`{"params":null}`, []string{"a"}, []string{""}, nil},
		{`{"params":{"_meta":{"a":"x"}}}`, nil, []string{}, nil},
		{`{"params":{"_meta":{"a":"1","b":"2","c":"3","d":"4","e":"5"}}}`, []string{"e", "d", "c", "b", "a", "f"}, []string{"5", "4", "3", "2", "1", ""}, nil},
		{`{"params":[]}`, []string{"a"}, nil, ErrNotObject},
		{`{"params":{"_meta":"a"}}`, []string{"a"}, nil, ErrNotObject},
		{`{"params":{"_meta":{"a":"x"}}`, []string{"a"}, nil, ErrSyntax},
	} {
		got, err := Get([]byte(c.in), c.keys...)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("Get(%s) = %q, %v; want error %v", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("Get(%s, %q) = %q, %v; want %q", c.in, c.keys, got, err, c.want)
		}
	}
}

// checkSet checks the invariants of Set(in, kv...) that hold for any input.
func checkSet(t *testing.T, in []byte, kv []KV) {
	t.Helper()
	orig := bytes.Clone(in)
	out, sp, err := set(in, kv)
	if !bytes.Equal(in, orig) {
		t.Fatalf("set modified its input")
	}
	valid := json.Valid(in)
	if !valid {
		if !errors.Is(err, ErrSyntax) {
			t.Fatalf("set(%s) = %s, %v for invalid JSON", short(in), short(out), err)
		}
		if _, err := Get(in); !errors.Is(err, ErrSyntax) {
			t.Fatalf("Get(%s): %v for invalid JSON", short(in), err)
		}
		return
	}
	if errors.Is(err, ErrSyntax) {
		t.Fatalf("set(%s): %v, but encoding/json finds it valid", short(in), err)
	}
	unique := !hasDuplicateNames(in)
	var inMap map[string]any
	notObject := unique && decode(t, in, &inMap) != nil
	if unique && !notObject {
		params, ok := inMap["params"]
		switch params := params.(type) {
		case nil:
		case map[string]any:
			switch params["_meta"].(type) {
			case nil, map[string]any:
			default:
				notObject = true
			}
		default:
			notObject = ok
		}
	}
	if err != nil {
		if !errors.Is(err, ErrNotObject) {
			t.Fatalf("set(%s): %v", short(in), err)
		}
		if unique && !notObject {
			t.Fatalf("set(%s): %v, but params._meta can be an object", short(in), err)
		}
		return
	}
	if notObject {
		t.Fatalf("set(%s) = %s, want ErrNotObject", short(in), short(out))
	}

	if !json.Valid(out) {
		t.Fatalf("set(%s) = %s: not valid JSON", short(in), short(out))
	}
	if len(out) != cap(out) {
		t.Errorf("set(%s): result has len %d and cap %d: its size was computed wrong", short(in), len(out), cap(out))
	}
	if len(in) > 0 && len(out) > 0 && &in[0] == &out[0] {
		t.Fatalf("set returned its input")
	}
	// Bytes outside the edited span are kept.
	if sp.start > sp.end || sp.end > len(in) || len(out) < sp.start+len(in)-sp.end {
		t.Fatalf("set(%s): bad span %v", short(in), sp)
	}
	if !bytes.Equal(out[:sp.start], in[:sp.start]) || !bytes.Equal(out[len(out)-(len(in)-sp.end):], in[sp.end:]) {
		t.Fatalf("set(%s) = %s changed bytes outside %v", short(in), short(out), sp)
	}

	// Every key reads back as the value the last kv for it set.
	keys := make([]string, len(kv))
	want := make([]string, len(kv))
	final := map[string]string{}
	for _, e := range kv {
		final[norm(e.Key)] = norm(e.Value)
	}
	for j, e := range kv {
		keys[j], want[j] = e.Key, final[norm(e.Key)]
	}
	got, err := Get(out, keys...)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Get(set(%s) = %s) = %q, %v; want %q", short(in), short(out), got, err, want)
	}

	if !unique || len(kv) == 0 {
		return
	}
	// encoding/json reads the same message but for the keys set.
	var outMap map[string]any
	if err := decode(t, out, &outMap); err != nil {
		t.Fatalf("decoding set(%s) = %s: %v", short(in), short(out), err)
	}
	params, _ := inMap["params"].(map[string]any)
	if params == nil {
		params = map[string]any{}
		inMap["params"] = params
	}
	meta, _ := params["_meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		params["_meta"] = meta
	}
	if len(kv) == 1 && sp.end > sp.start && string(in[sp.start:sp.end]) != "null" {
		// A single key present is replaced by its value alone.
		var old any
		if err := decode(t, in[sp.start:sp.end], &old); err != nil || !reflect.DeepEqual(old, meta[norm(kv[0].Key)]) {
			t.Fatalf("set(%s) replaced %q, not the value of %q", short(in), in[sp.start:sp.end], kv[0].Key)
		}
	}
	for k, v := range final {
		meta[k] = v
	}
	if !reflect.DeepEqual(inMap, outMap) {
		t.Fatalf("set(%s) = %s\ndecodes to %v\nwant       %v", short(in), short(out), outMap, inMap)
	}
}

// decode decodes b as encoding/json does, keeping numbers exact.
func decode(t *testing.T, b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		t.Fatalf("decoding %q: more after the value", b)
	}
	return nil
}

// hasDuplicateNames reports whether an object in the valid JSON b names a
// member twice, so that decoders may disagree on its value.
func hasDuplicateNames(b []byte) bool {
	d := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		names map[string]bool // nil for an array
		key   bool            // the next token of an object is a name
	}
	var stack []frame
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		top := len(stack) - 1
		if top >= 0 && stack[top].names != nil && stack[top].key {
			if s, ok := tok.(string); ok {
				if stack[top].names[s] {
					return true
				}
				stack[top].names[s] = true
				stack[top].key = false
				continue
			}
		}
		if top >= 0 && stack[top].names != nil {
			stack[top].key = true // after this value
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{names: map[string]bool{}, key: true})
		case json.Delim('['):
			stack = append(stack, frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:top]
		}
	}
}

func TestDuplicateNames(t *testing.T) {
	for in, want := range map[string]bool{
		`{"a":1,"b":{"a":2},"c":[{"a":1},{"a":1}]}`: false,
		`{"a":1,"a":2}`: true,
		`{"x":[{"a":{},"a\u0000":1,"\u0061":3}]}`: true,
		`[1,{"a":[],"b":{"c":1,"c":1}}]`:          true,
	} {
		if got := hasDuplicateNames([]byte(in)); got != want {
			t.Errorf("hasDuplicateNames(%s) = %v", in, got)
		}
	}
}

func TestDeepNesting(t *testing.T) {
	deep := strings.Repeat(`[{"a":`, 2000) + "1" + strings.Repeat(`}]`, 2000)
	in := `{"params":{"x":` + deep + `}}`
	checkSet(t, []byte(in), []KV{{"traceparent", tp}})
	if _, err := Set([]byte(`{"params":{"x":`+deep[:len(deep)-1]+`}}`), KV{"a", "b"}); !errors.Is(err, ErrSyntax) {
		t.Errorf("mismatched deep nesting: %v", err)
	}
	// As deep as encoding/json accepts, and one more.
	for _, n := range []int{maxDepth - 1, maxDepth} {
		in := `{"params":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`
		checkSet(t, []byte(in), []KV{{"a", "b"}})
		in = `{"params":{"_meta":{"a":` + strings.Repeat("[", n-2) + strings.Repeat("]", n-2) + `}}}`
		checkSet(t, []byte(in), []KV{{"a", "b"}})
	}
}

// norm turns each byte of s that is not UTF-8 into U+FFFD, as encoding/json
// does when it encodes s.
func norm(s string) string { return string([]rune(s)) }

// short quotes b for a message, eliding the middle of a long one.
func short(b []byte) string {
	if len(b) > 200 {
		return strconv.Quote(string(b[:100])) + "…" + strconv.Quote(string(b[len(b)-100:]))
	}
	return strconv.Quote(string(b))
}
