package tunnel

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestLineReader(t *testing.T) {
	const max = 100
	huge := strings.Repeat("h", 3*readBufferSize) // past the read buffer
	tests := []struct {
		name  string
		input string
		// want lists the lines; a line longer than max must come in pieces.
		want []string
	}{
		{name: "empty", input: "", want: nil},
		{name: "lines", input: "a\nbb\n\nccc\n", want: []string{"a\n", "bb\n", "\n", "ccc\n"}},
		{name: "no final newline", input: "a\nlast", want: []string{"a\n", "last"}},
		{name: "crlf kept", input: "a\r\nb\r\n", want: []string{"a\r\n", "b\r\n"}},
		{name: "exactly max", input: strings.Repeat("x", max-1) + "\nz\n", want: []string{strings.Repeat("x", max-1) + "\n", "z\n"}},
		{name: "over max, within the buffer", input: strings.Repeat("y", 2*max) + "\nz\n", want: []string{strings.Repeat("y", 2*max) + "\n", "z\n"}},
		{name: "over the buffer", input: "a\n" + huge + "\nz\n", want: []string{"a\n", huge + "\n", "z\n"}},
		{name: "over the buffer at the end", input: huge, want: []string{huge}},
	}
	for _, tt := range tests {
		for _, oneByte := range []bool{false, true} {
			name := tt.name
			var r io.Reader = strings.NewReader(tt.input)
			if oneByte {
				name += "/one byte at a time"
				r = iotest.OneByteReader(r)
			}
			t.Run(name, func(t *testing.T) {
				lr := newLineReader(r, max)
				var got []string
				var cur bytes.Buffer
				inLong := false
				for {
					pc, err := lr.next()
					if len(pc.data) > max+readBufferSize {
						t.Fatalf("a piece of %d bytes: more than the limit plus a buffer", len(pc.data))
					}
					switch {
					case pc.long:
						if pc.first == inLong {
							t.Fatalf("piece first=%v while inside a long line=%v", pc.first, inLong)
						}
						inLong = true
						cur.Write(pc.data)
						if pc.last {
							got = append(got, cur.String())
							cur.Reset()
							inLong = false
						}
					case len(pc.data) > 0:
						if len(pc.data) > max {
							t.Fatalf("a whole line of %d bytes, over the limit %d", len(pc.data), max)
						}
						got = append(got, string(pc.data))
					}
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				if inLong {
					t.Fatal("input ended inside a long line without a last piece")
				}
				if len(got) != len(tt.want) {
					t.Fatalf("got %d lines, want %d", len(got), len(tt.want))
				}
				for i := range got {
					if got[i] != tt.want[i] {
						t.Errorf("line %d: got %d bytes %.20q…, want %d bytes %.20q…", i, len(got[i]), got[i], len(tt.want[i]), tt.want[i])
					}
				}
			})
		}
	}
}
