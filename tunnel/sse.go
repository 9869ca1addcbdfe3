package tunnel

import (
	"io"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/sse"
)

// sseTap passes a text/event-stream body through unchanged while reading
// the data of each event as it goes by: the proxy's copy loop reads through
// it, so an event is interpreted the moment it is relayed, and nothing is
// held back. At most max bytes of one event's data are kept; a longer event
// is relayed but not interpreted.
type sseTap struct {
	body io.ReadCloser
	sc   sse.Scanner
	// relayed, when set, is called once what the last Read returned has
	// been written on: at the next Read, or Close.
	relayed func()
}

func newSSETap(body io.ReadCloser, max int, onEvent func(data []byte), onLarge func(size int)) *sseTap {
	return &sseTap{body: body, sc: sse.Scanner{Max: max, OnEvent: onEvent, OnLarge: onLarge}}
}

func (t *sseTap) Read(p []byte) (int, error) {
	if t.relayed != nil {
		t.relayed()
	}
	n, err := t.body.Read(p)
	t.sc.Scan(p[:n])
	return n, err
}

func (t *sseTap) Close() error {
	if t.relayed != nil {
		t.relayed()
	}
	return t.body.Close()
}

// bodyTap passes a JSON body through unchanged and interprets it once it
// has all gone by, if it was at most max bytes.
type bodyTap struct {
	body    io.ReadCloser
	max     int
	onBody  func(data []byte)
	onLarge func(size int)

	buf  []byte
	size int
	over bool
	done bool
}

func (t *bodyTap) Read(p []byte) (int, error) {
	n, err := t.body.Read(p)
	t.size += n
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
			t.onLarge(t.size)
		} else {
			t.onBody(t.buf)
		}
	}
	return n, err
}

func (t *bodyTap) Close() error { return t.body.Close() }
