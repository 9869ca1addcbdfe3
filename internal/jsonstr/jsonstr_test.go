package jsonstr

import (
	"bytes"
	"encoding/json"
	"testing"
)

var cases = []string{"", "plain", `quote " back \ slash`, "tab\tnl\ncr\r", "\x00\x1f", "<b>&amp;</b>", "é\u2028\u2029", "\xff\xfe bad", "emoji 😀"}

// TestAppendAsEncodingJSON: byte for byte what encoding/json writes.
func TestAppendAsEncodingJSON(t *testing.T) {
	for _, s := range cases {
		want, _ := json.Marshal(s)
		if got := Append(nil, s, AsEncodingJSON); !bytes.Equal(got, want) {
			t.Errorf("%q: %s, want %s", s, got, want)
		}
		if n := Len(s, AsEncodingJSON); n != len(want) {
			t.Errorf("%q: Len %d, want %d", s, n, len(want))
		}
	}
}

// TestAppendMinimal: what encoding/json writes without HTML escaping.
func TestAppendMinimal(t *testing.T) {
	for _, s := range cases {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(s)
		want := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
		want = bytes.ReplaceAll(bytes.ReplaceAll(want, []byte(`\u2028`), []byte("\u2028")), []byte(`\u2029`), []byte("\u2029"))
		if got := Append(nil, s, Minimal); !bytes.Equal(got, want) {
			t.Errorf("%q: %s, want %s", s, got, want)
		}
		if n := Len(s, Minimal); n != len(want) {
			t.Errorf("%q: Len %d, want %d", s, n, len(want))
		}
		var back string
		if err := json.Unmarshal(Append(nil, s, Minimal), &back); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
}
