package sse_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/sse"
)

func TestScanner(t *testing.T) {
	stream := ": a comment\n" +
		"event: message\nid: 1\ndata: {\"id\":1}\n\n" +
		"data:{\"a\":\n" + "data: 2}\r\n\r\n" + // two data lines, CRLF
		"data: cr\r\r" + // CR alone ends lines too
		"retry: 100\n\n" + // an event without data is not dispatched
		"data: " + strings.Repeat("x", 100) + "\n\n" + // too large
		"data:" + strings.Repeat("y", 30) + "\r\ndata: " + strings.Repeat("z", 40) + "\n\n" + // too large together
		"data: last\n\n" +
		"data: unterminated"
	want := []string{`{"id":1}`, "{\"a\":\n2}", "cr", "last"}
	for _, piece := range []int{1, 2, 7, len(stream)} {
		var events []string
		var large []int
		s := &sse.Scanner{
			Max:     50,
			OnEvent: func(data []byte) { events = append(events, string(data)) },
			OnLarge: func(size int) { large = append(large, size) },
		}
		for b := []byte(stream); len(b) > 0; {
			n := min(piece, len(b))
			s.Scan(b[:n])
			b = b[n:]
		}
		if diff := cmp.Diff(want, events); diff != "" {
			t.Errorf("pieces of %d bytes: events (-want +got):\n%s", piece, diff)
		}
		// The large event's size is its data's, as if it had been kept:
		// 100 bytes, then 30 and 40 joined by a newline.
		if diff := cmp.Diff([]int{100, 71}, large); diff != "" {
			t.Errorf("pieces of %d bytes: large event sizes (-want +got):\n%s", piece, diff)
		}
	}
}

// A Scanner without OnLarge drops a large event quietly.
func TestScannerNoOnLarge(t *testing.T) {
	var events []string
	s := &sse.Scanner{Max: 10, OnEvent: func(data []byte) { events = append(events, string(data)) }}
	s.Scan([]byte("data: 123456\n\ndata: ok\n\n"))
	if diff := cmp.Diff([]string{"ok"}, events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func ExampleScanner() {
	s := &sse.Scanner{Max: 1 << 20, OnEvent: func(data []byte) { fmt.Println(string(data)) }}
	s.Scan([]byte("event: message\nid: 7\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,"))
	s.Scan([]byte("\"result\":{}}\n\n"))
	// Output: {"jsonrpc":"2.0","id":1,"result":{}}
}
