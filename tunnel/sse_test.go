package tunnel

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// TestSSETap: the tap relays the stream unchanged, read in any pieces,
// and hands on each event's data as it passes (internal/sse tests the
// reading of events itself).
func TestSSETap(t *testing.T) {
	stream := "event: message\nid: 1\ndata: {\"id\":1}\n\n" + "data: " + strings.Repeat("x", 100) + "\n\n" + "data: last\n\n"
	for _, oneByte := range []bool{false, true} {
		var events []string
		large := 0
		var body io.Reader = strings.NewReader(stream)
		if oneByte {
			body = iotest.OneByteReader(body)
		}
		tap := newSSETap(io.NopCloser(body), 50, func(data []byte) { events = append(events, string(data)) }, func(int) { large++ })
		out, err := io.ReadAll(tap)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != stream {
			t.Errorf("oneByte=%v: the tap changed the stream", oneByte)
		}
		if diff := cmp.Diff([]string{`{"id":1}`, "last"}, events); diff != "" || large != 1 {
			t.Errorf("oneByte=%v: %d large events; events (-want +got):\n%s", oneByte, large, diff)
		}
	}
}

func TestBodyTap(t *testing.T) {
	for _, tt := range []struct {
		body      string
		wantBody  string
		wantLarge int
	}{
		{body: `{"id":1,"result":{}}`, wantBody: `{"id":1,"result":{}}`},
		{body: strings.Repeat("y", 60), wantLarge: 1},
	} {
		var got string
		large := 0
		tap := &bodyTap{body: io.NopCloser(strings.NewReader(tt.body)), max: 50,
			onBody: func(b []byte) { got = string(b) }, onLarge: func(int) { large++ }}
		out, err := io.ReadAll(tap)
		if err != nil || string(out) != tt.body {
			t.Fatalf("ReadAll = %q, %v", out, err)
		}
		if got != tt.wantBody || large != tt.wantLarge {
			t.Errorf("body %q, large %d; want %q, %d", got, large, tt.wantBody, tt.wantLarge)
		}
	}
}
