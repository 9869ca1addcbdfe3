package tunnel

import (
	"bufio"
	"bytes"
	"io"
)

// DefaultMaxLineSize is the longest line the stdio relay holds whole.
const DefaultMaxLineSize = 16 << 20

// readBufferSize is the relay's read buffer: lines up to this size are
// handed on straight from it, without a copy.
const readBufferSize = 64 << 10

// keepBuffer is the most the reader keeps allocated for assembling lines
// between long ones, so one 16 MiB line does not pin 16 MiB for good.
const keepBuffer = 1 << 20

// A piece is a whole line, newline included, or a piece of a line longer
// than the limit. Its data is valid until the next call of next.
type piece struct {
	data []byte
	// long marks a piece of a line over the limit: the first piece has
	// first set, the final one (ending in the newline, or at end of input)
	// last.
	long, first, last bool
}

// lineReader splits a stream into lines, never holding more of one line
// than its limit plus one read buffer: past the limit a line is handed on
// in pieces as it arrives.
type lineReader struct {
	br   *bufio.Reader
	max  int
	buf  []byte // a line longer than br's buffer, being assembled
	long bool   // in the middle of a line over the limit
}

func newLineReader(r io.Reader, max int) *lineReader {
	if max <= 0 {
		max = DefaultMaxLineSize
	}
	return &lineReader{br: bufio.NewReaderSize(r, readBufferSize), max: max}
}

// next returns the next line or piece of a long line. At the end of the
// input it returns the bytes after the last newline, if any, with io.EOF.
func (lr *lineReader) next() (piece, error) {
	if lr.long {
		b, err := lr.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			return piece{data: b, long: true}, nil
		}
		lr.long = false
		return piece{data: b, long: true, last: true}, err
	}
	if cap(lr.buf) > keepBuffer {
		lr.buf = nil
	}
	lr.buf = lr.buf[:0]
	for {
		b, err := lr.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if len(lr.buf)+len(b) > lr.max {
				lr.long = true
				lr.buf = append(lr.buf, b...)
				return piece{data: lr.buf, long: true, first: true}, nil
			}
			lr.buf = append(lr.buf, b...)
			continue
		}
		line := b
		if len(lr.buf) > 0 {
			lr.buf = append(lr.buf, b...)
			line = lr.buf
		}
		if len(line) > lr.max {
			return piece{data: line, long: true, first: true, last: true}, err
		}
		return piece{data: line}, err
	}
}

// more reports whether a whole line is already buffered, so that the next
// call of next will not wait for input: until then, output may be gathered
// rather than flushed.
func (lr *lineReader) more() bool {
	n := lr.br.Buffered()
	if n == 0 {
		return false
	}
	b, _ := lr.br.Peek(n)
	return bytes.IndexByte(b, '\n') >= 0
}
