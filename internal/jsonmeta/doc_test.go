package jsonmeta

import "testing"

// TestDocSetUnread: a Doc not read has no message to edit: Set says so
// rather than return an empty one.
func TestDocSetUnread(t *testing.T) {
	var d Doc
	if out, err := d.Set("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"); err == nil {
		t.Errorf("Set on a Doc never read = %q, nil; want an error", out)
	}
	if v := d.Value(0); v != "" {
		t.Errorf("Value on a Doc never read = %q", v)
	}
}

// TestDocReadAgain: a Doc read a second time gives the second message's
// values and edits, nothing of the first's, whatever either holds.
func TestDocReadAgain(t *testing.T) {
	const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	first := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"traceparent":"` + tp + `","tracestate":"a=b"}}}`)
	for _, second := range []string{
		`{}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":2,"method":"ping","params":{}}`,
		`{"jsonrpc":"2.0","id":2,"method":"ping","params":null}`,
		`[1]`,
	} {
		t.Run(second, func(t *testing.T) {
			var d Doc
			if err := d.Read(first, "traceparent", "tracestate"); err != nil {
				t.Fatal(err)
			}
			if v := d.Value(0); v != tp {
				t.Fatalf("first Value(0) = %q", v)
			}
			msg := []byte(second)
			err := d.Read(msg, "traceparent", "tracestate")
			vals, gerr := Get(msg, "traceparent", "tracestate")
			if (err == nil) != (gerr == nil) {
				t.Fatalf("Read again: %v; Get: %v", err, gerr)
			}
			for j := range 2 {
				want := ""
				if gerr == nil {
					want = vals[j]
				}
				if v := d.Value(j); v != want {
					t.Errorf("Value(%d) after reading %s = %q; Get %q", j, second, v, want)
				}
			}
			got, err := d.Set("00-11111111111111111111111111111111-2222222222222222-01", "")
			want, werr := Set(msg, KV{"traceparent", "00-11111111111111111111111111111111-2222222222222222-01"})
			if string(got) != string(want) || (err == nil) != (werr == nil) {
				t.Errorf("Set after reading %s = %s, %v; Set %s, %v", second, got, err, want, werr)
			}
		})
	}
}

// TestDocReadTooMany: a Read of more keys than a Doc holds fails, and
// leaves nothing of the Read before it to be read or edited.
func TestDocReadTooMany(t *testing.T) {
	var d Doc
	msg := []byte(`{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"a":"1"}}}`)
	if err := d.Read(msg, "a"); err != nil || d.Value(0) != "1" {
		t.Fatalf("Read: %v, Value %q", err, d.Value(0))
	}
	if err := d.Read(msg, "a", "b", "c", "d", "e"); err == nil {
		t.Fatal("Read of five keys: no error")
	}
	if v := d.Value(0); v != "" {
		t.Errorf("Value(0) after a failed Read = %q", v)
	}
	if out, err := d.Set("2"); err == nil {
		t.Errorf("Set after a failed Read = %s, nil; want its error", out)
	}
}

// TestReadPathBad: a Path that does not fit its message is an error, and
// leaves nothing of an earlier Read to read or edit.
func TestReadPathBad(t *testing.T) {
	msg := []byte(`{"params":{"_meta":{"traceparent":"x"}}}`)
	var d Doc
	if err := d.Read(msg, "traceparent"); err != nil || d.Value(0) != "x" {
		t.Fatalf("Read: %v %q", err, d.Value(0))
	}
	for _, p := range []Path{
		{Valid: true, Close: len(msg)}, // past the end
		{Valid: true, Close: 3},        // not a '}'
		{Valid: true, Close: len(msg) - 1, Params: KindObject, ParamsStart: 10, ParamsEnd: 99},
		{Valid: true, Close: len(msg) - 1, Params: KindObject, ParamsStart: 10, ParamsEnd: 39, Meta: KindObject, MetaStart: 30, MetaEnd: 20},
		// In the message, out of their places: params past the message's
		// close, _meta outside its params, values not of their kind.
		{Valid: true, Close: len(msg) - 2, Members: true, Params: KindObject, ParamsStart: 10, ParamsEnd: len(msg), ParamsMembers: true},
		{Valid: true, Close: len(msg) - 1, Members: true, Params: KindObject, ParamsStart: 10, ParamsEnd: 39, ParamsMembers: true, Metas: 1, Meta: KindObject, MetaStart: 0, MetaEnd: len(msg), MetaMembers: true},
		{Valid: true, Close: len(msg) - 1, Members: true, Params: KindObject, ParamsStart: 19, ParamsEnd: 39, ParamsMembers: true, Metas: 1, Meta: KindObject, MetaStart: 10, MetaEnd: 40, MetaMembers: true},
		{Valid: true, Close: len(msg) - 1, Members: true, Params: KindObject, ParamsStart: 1, ParamsEnd: 39, ParamsMembers: true},
		{Valid: true, Close: len(msg) - 1, Members: true, Params: KindObject, ParamsStart: 10, ParamsEnd: 39, ParamsMembers: true, Metas: 1, Meta: KindNull, MetaStart: 11, MetaEnd: 15},
		{Valid: true, Close: len(msg) - 1, Members: true, Params: KindNull, ParamsStart: 10, ParamsEnd: 39, Metas: 1, Meta: KindObject, MetaStart: 19, MetaEnd: 38, MetaMembers: true},
	} {
		if err := d.ReadPath(msg, &p, "traceparent"); err == nil || d.Value(0) != "" {
			t.Errorf("ReadPath(%+v): %v, value %q", p, err, d.Value(0))
		}
		if out, err := d.Set("y"); err == nil {
			t.Errorf("Set after a bad ReadPath: %q", out)
		}
	}
}

// TestDocOverwrite: Overwrite edits the message read in place when each
// value replaces one as long, and refuses, changing nothing, when any
// would move a byte.
func TestDocOverwrite(t *testing.T) {
	const (
		tp    = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
		other = "00-11111111111111111111111111111111-2222222222222222-01"
	)
	for _, c := range []struct {
		name, in  string
		values    []string
		overwrote bool
	}{
		{"a traceparent for another", `{"id":1,"params":{"name":"x","_meta":{"traceparent":"` + tp + `"}}}`, []string{other, ""}, true},
		{"and the same trace state", `{"params":{"_meta":{"tracestate":"a=b", "traceparent":"` + tp + `"}}}`, []string{other, "a=b"}, true},
		{"the last of two", `{"params":{"_meta":{"traceparent":"` + tp + `","traceparent":"` + tp + `"}}}`, []string{other, ""}, true},
		{"no traceparent", `{"params":{"_meta":{"progressToken":1}}}`, []string{other, ""}, false},
		{"no _meta", `{"params":{"name":"x"}}`, []string{other, ""}, false},
		{"a shorter one", `{"params":{"_meta":{"traceparent":"00-1-2-01"}}}`, []string{other, ""}, false},
		{"a trace state to add", `{"params":{"_meta":{"traceparent":"` + tp + `"}}}`, []string{other, "a=b"}, false},
		{"escaped, the same value, longer", `{"params":{"_meta":{"traceparent":"\u0030` + tp[1:] + `"}}}`, []string{other, ""}, false},
		{"escaped, as long in JSON", `{"params":{"_meta":{"traceparent":"\u0030` + tp[6:] + `"}}}`, []string{other, ""}, true},
		{"in an earlier _meta", `{"params":{"_meta":{"traceparent":"` + tp + `"},"_meta":{}}}`, []string{other, ""}, false},
		{"a number as long as the string", `{"params":{"_meta":{"traceparent":123456789012345678901234567890123456789012345678901234567}}}`, []string{other, ""}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			msg := []byte(c.in)
			var d Doc
			if err := d.Read(msg, "traceparent", "tracestate"); err != nil {
				t.Fatal(err)
			}
			want, err := d.Set(c.values...)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Overwrite(c.values...); got != c.overwrote {
				t.Fatalf("Overwrite = %v; want %v", got, c.overwrote)
			}
			if c.overwrote && string(msg) != string(want) || !c.overwrote && string(msg) != c.in {
				t.Errorf("message after Overwrite = %s; Set gives %s", msg, want)
			}
		})
	}
}

// TestDocAfterOverwrite: a Doc that overwrote its message reads as one
// read anew from it: the values it wrote, however escaped and whatever
// they replaced, and the edits of the message as it now is.
func TestDocAfterOverwrite(t *testing.T) {
	for _, c := range []struct {
		name, in string
		values   []string
	}{
		{"a value with escapes over a plain one", `{"params":{"_meta":{"tracestate":"abcd"}}}`, []string{"", `a"b`}},
		{"a string over a number", `{"params":{"_meta":{"tracestate":12345}}}`, []string{"", "abc"}},
		{"a plain value over an escaped one", `{"params":{"_meta":{"tracestate":"\u0041"}}}`, []string{"", "abcdef"}},
		{"UTF-8 over ASCII", `{"params":{"_meta":{"traceparent":"abcd"}}}`, []string{"éé", ""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			msg := []byte(c.in)
			var d Doc
			if err := d.Read(msg, "traceparent", "tracestate"); err != nil {
				t.Fatal(err)
			}
			if !d.Overwrite(c.values...) {
				t.Fatalf("Overwrite(%q) of %s refused", c.values, c.in)
			}
			var fresh Doc
			if err := fresh.Read(msg, "traceparent", "tracestate"); err != nil {
				t.Fatal(err)
			}
			for j := range c.values {
				if got, want := d.Value(j), fresh.Value(j); got != want {
					t.Errorf("Value(%d) after Overwrite = %q; read anew %q", j, got, want)
				}
				got, gotOK := d.Plain(j)
				want, wantOK := fresh.Plain(j)
				if string(got) != string(want) || gotOK != wantOK {
					t.Errorf("Plain(%d) after Overwrite = %q, %v; read anew %q, %v", j, got, gotOK, want, wantOK)
				}
			}
			const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
			got, err := d.Set(tp, "x=y")
			want, werr := fresh.Set(tp, "x=y")
			if string(got) != string(want) || (err == nil) != (werr == nil) {
				t.Errorf("Set after Overwrite = %s, %v; read anew %s, %v", got, err, want, werr)
			}
		})
	}
}

// TestDocOverwriteExtraValues: values past the keys read set nothing, in
// Overwrite as in Set.
func TestDocOverwriteExtraValues(t *testing.T) {
	const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	msg := []byte(`{"params":{"_meta":{"traceparent":"` + tp + `"}}}`)
	var d Doc
	if err := d.Read(msg, "traceparent"); err != nil {
		t.Fatal(err)
	}
	other := "00-11111111111111111111111111111111-2222222222222222-01"
	want, err := d.Set(other, "extra")
	if err != nil {
		t.Fatal(err)
	}
	if !d.Overwrite(other, "extra") || string(msg) != string(want) {
		t.Errorf("Overwrite with an extra value: %s; Set gives %s", msg, want)
	}
}
