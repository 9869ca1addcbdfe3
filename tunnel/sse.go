package tunnel

import (
	"bytes"
	"io"
)

// sseTap passes a text/event-stream body through unchanged while reading
// the data of each event as it goes by: the proxy's copy loop reads through
// it, so an event is interpreted the moment it is relayed, and nothing is
// held back. At most max bytes of one event's data are kept; a longer event
// is relayed but not interpreted.
type sseTap struct {
	body    io.ReadCloser
	max     int
	onEvent func(data []byte) // an event's data lines, joined by '\n'
	onLarge func()            // an event too large to interpret

	line     []byte // the current line, cut at max
	lineOver bool
	cr       bool // the last byte was '\r', whose '\n' may follow
	data     []byte
	hasData  bool
	dataOver bool
}

func (t *sseTap) Read(p []byte) (int, error) {
	n, err := t.body.Read(p)
	t.scan(p[:n])
	return n, err
}

func (t *sseTap) Close() error { return t.body.Close() }

// scan splits b into lines; SSE ends a line with "\r\n", "\n" or "\r".
func (t *sseTap) scan(b []byte) {
	for len(b) > 0 {
		if t.cr {
			t.cr = false
			if b[0] == '\n' {
				b = b[1:]
				continue
			}
		}
		i := bytes.IndexAny(b, "\r\n")
		if i < 0 {
			t.appendLine(b)
			return
		}
		t.appendLine(b[:i])
		t.cr = b[i] == '\r'
		t.endLine()
		b = b[i+1:]
	}
}

func (t *sseTap) appendLine(b []byte) {
	if t.lineOver {
		return
	}
	if len(t.line)+len(b) > t.max {
		t.lineOver = true
		// The start is kept to tell a data line from another field.
		b = b[:min(len(b), max(0, 8-len(t.line)))]
	}
	t.line = append(t.line, b...)
}

func (t *sseTap) endLine() {
	line, over := t.line, t.lineOver
	t.line, t.lineOver = t.line[:0], false
	if len(line) == 0 && !over {
		t.dispatch()
		return
	}
	field, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		field, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	if string(field) != "data" {
		return // event, id, retry and comments carry no JSON-RPC
	}
	if over || len(t.data)+len(value)+1 > t.max {
		t.dataOver = true
		return
	}
	if t.hasData {
		t.data = append(t.data, '\n')
	}
	t.data = append(t.data, value...)
	t.hasData = true
}

func (t *sseTap) dispatch() {
	switch {
	case t.dataOver:
		t.onLarge()
	case t.hasData:
		t.onEvent(t.data)
	}
	t.data, t.hasData, t.dataOver = t.data[:0], false, false
	if cap(t.data) > keepBuffer {
		t.data = nil
	}
}

// bodyTap passes a JSON body through unchanged and interprets it once it
// has all gone by, if it was at most max bytes.
type bodyTap struct {
	body    io.ReadCloser
	max     int
	onBody  func(data []byte)
	onLarge func()

	buf  []byte
	over bool
	done bool
}

func (t *bodyTap) Read(p []byte) (int, error) {
	n, err := t.body.Read(p)
	if !t.over {
		if len(t.buf)+n > t.max {
			t.over, t.buf = true, nil
		} else {
			t.buf = append(t.buf, p[:n]...)
		}
	}
	if err == io.EOF && !t.done {
		t.done = true
		if t.over {
			t.onLarge()
		} else {
			t.onBody(t.buf)
		}
	}
	return n, err
}

func (t *bodyTap) Close() error { return t.body.Close() }
