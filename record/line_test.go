package record

import (
	"encoding/json"
	"testing"
	"time"
)

// TestAppendLineIsMarshal: the hand-written line reads as what
// json.Marshal writes; a message on one line is kept byte for byte, one
// spanning lines is compacted onto one.
func TestAppendLineIsMarshal(t *testing.T) {
	at := time.Date(2026, 12, 6, 10, 0, 0, 123456789, time.UTC)
	for _, l := range []Line{
		{Time: at, Dir: ToServer, Message: json.RawMessage(`{"jsonrpc":"2.0","id":1,"method":"ping"}`)},
		{Time: at, Dir: ToClient, Session: "S\"1<>&\u2028", Message: json.RawMessage(`{"a": [1, 2]}`)},
		{Time: at, Dir: ToClient, Message: json.RawMessage("{\n  \"a\": 1\n}")},
		{Time: at.Add(-time.Hour), Dir: ToServer, Omitted: "not JSON", Bytes: 12},
	} {
		want, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		got := appendLine(nil, &l)
		var g, w any
		if json.Unmarshal(got, &g) != nil || json.Unmarshal(want, &w) != nil {
			t.Fatalf("not JSON: %s", got)
		}
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(w)
		if string(gb) != string(wb) {
			t.Errorf("\n got %s\nwant %s", got, want)
		}
		for _, c := range got {
			if c == '\n' || c == '\r' {
				t.Errorf("the line spans lines: %q", got)
			}
		}
	}
	l := Line{Time: at, Dir: ToServer, Message: json.RawMessage(`{"a": [1, 2]}`)}
	if got := string(appendLine(nil, &l)); got != `{"time":"2026-12-06T10:00:00.123456789Z","dir":"to_server","message":{"a": [1, 2]}}` {
		t.Errorf("a one-line message was not kept as it came: %s", got)
	}
}
