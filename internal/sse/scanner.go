// Package sse reads the events of a text/event-stream as its bytes go by,
// for code that relays or writes a stream and wants to know what it
// carries without holding it back: the tunnel reading an upstream's
// answers, the server measuring its own.
package sse

import "bytes"

// keepBuffer is the most a Scanner keeps allocated between events: one
// large event must not pin its buffer for the life of a stream.
const keepBuffer = 1 << 20

// A Scanner splits the bytes of an event stream, fed in pieces of any
// size, into events, and hands each event's data to OnEvent. At most Max
// bytes of one event's data are kept; a longer event is reported to
// OnLarge instead, with its size. The zero value is not usable: set Max
// and OnEvent.
type Scanner struct {
	Max     int
	OnEvent func(data []byte) // an event's data lines, joined by '\n'; valid during the call only
	OnLarge func(size int)    // an event too large to keep, and its data's size; may be nil

	line     []byte // the current line, cut at Max
	lineLen  int    // the current line's length, uncut
	lineOver bool
	cr       bool // the last byte was '\r', whose '\n' may follow
	data     []byte
	borrowed []byte // the event's data, in place in the bytes being scanned
	dataLen  int    // the event's data size, counted past Max
	hasData  bool
	dataOver bool
}

// Scan reads b, the next bytes of the stream. SSE ends a line with
// "\r\n", "\n" or "\r"; an empty line ends an event. An event whose
// lines all lie in one b is read in place; only what is left over at the
// end of b is copied.
func (s *Scanner) Scan(b []byte) {
	for len(b) > 0 {
		if s.cr {
			s.cr = false
			if b[0] == '\n' {
				b = b[1:]
				continue
			}
		}
		i := lineEnd(b)
		if i < 0 {
			s.appendLine(b)
			break
		}
		if s.lineLen == 0 {
			s.endLine(b[:i], i, i > s.Max, true) // the whole line is in b
		} else {
			s.appendLine(b[:i])
			line, n, over := s.line, s.lineLen, s.lineOver
			s.line, s.lineLen, s.lineOver = s.line[:0], 0, false
			s.endLine(line, n, over, false)
		}
		s.cr = b[i] == '\r'
		b = b[i+1:]
	}
	if s.borrowed != nil {
		// The event goes on past b, which is the caller's.
		s.data = append(s.data[:0], s.borrowed...)
		s.borrowed = nil
	}
}

// lineEnd returns the index of the first '\r' or '\n' in b, or -1.
func lineEnd(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		i = len(b)
	}
	if j := bytes.IndexByte(b[:i], '\r'); j >= 0 {
		return j
	}
	if i == len(b) {
		return -1
	}
	return i
}

func (s *Scanner) appendLine(b []byte) {
	s.lineLen += len(b)
	if s.lineOver {
		return
	}
	if len(s.line)+len(b) > s.Max {
		s.lineOver = true
		// The start is kept to tell a data line from another field.
		b = b[:min(len(b), max(0, 8-len(s.line)))]
	}
	s.line = append(s.line, b...)
}

// endLine takes a line, n bytes long, which over says was longer than
// Max (and of which line then holds the start only). A line in place in
// the caller's bytes may be borrowed until Scan returns.
func (s *Scanner) endLine(line []byte, n int, over, inPlace bool) {
	if n == 0 {
		s.dispatch()
		return
	}
	field, value := line, []byte(nil)
	valueLen := 0
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		field, value = line[:i], line[i+1:]
		valueLen = n - i - 1
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
			valueLen--
		}
	}
	if string(field) != "data" {
		return // event, id, retry and comments carry no JSON-RPC
	}
	first := !s.hasData
	if !first {
		s.dataLen++ // the '\n' joining data lines
	}
	s.dataLen += valueLen
	s.hasData = true
	if over || s.dataOver || s.dataLen > s.Max {
		s.dataOver, s.borrowed = true, nil
		return
	}
	if first && inPlace {
		s.borrowed = value
		return
	}
	if s.borrowed != nil {
		s.data = append(s.data[:0], s.borrowed...)
		s.borrowed = nil
	}
	if !first {
		s.data = append(s.data, '\n')
	}
	s.data = append(s.data, value...)
}

func (s *Scanner) dispatch() {
	switch {
	case s.dataOver:
		if s.OnLarge != nil {
			s.OnLarge(s.dataLen)
		}
	case s.borrowed != nil:
		s.OnEvent(s.borrowed)
	case s.hasData:
		s.OnEvent(s.data)
	}
	s.data, s.borrowed, s.dataLen, s.hasData, s.dataOver = s.data[:0], nil, 0, false, false
	if cap(s.data) > keepBuffer {
		s.data = nil
	}
}
