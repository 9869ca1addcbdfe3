package tunnel

import (
	"bufio"
	"context"
	"io"
	"sync"
)

// writeBufferSize is the buffer in which lines that arrived together are
// gathered into one write; a relay flushes it whenever no further line is
// waiting, so buffering adds no delay, and saves a system call per line
// under load.
const writeBufferSize = 64 << 10

// lineWriter writes whole lines to the client. Two goroutines write there:
// the relay of the server's lines and, when the server exits, the errors
// for the requests in flight; the lock keeps their lines whole.
type lineWriter struct {
	mu sync.Mutex
	bw *bufio.Writer
	// midLine is set when the last bytes written did not end a line, as
	// when a server died halfway through one: the next line the tunnel
	// writes itself must start on a line of its own to be readable.
	midLine bool
}

func newLineWriter(w io.Writer) *lineWriter {
	return &lineWriter{bw: bufio.NewWriterSize(w, writeBufferSize)}
}

// line writes one line of the relay; more says another line is already
// waiting to be written, so the buffer need not be flushed yet.
func (lw *lineWriter) line(p []byte, more bool) error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	lw.write(p)
	if more {
		return nil
	}
	return lw.bw.Flush()
}

// own writes a line the tunnel made, on a line of its own.
func (lw *lineWriter) own(p []byte) error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if lw.midLine {
		lw.write([]byte{'\n'})
	}
	lw.write(p)
	return lw.bw.Flush()
}

// lock and unlock bracket the pieces of a line too long to hold, so that
// nothing is written in its middle; writeLocked writes one piece.
func (lw *lineWriter) lock()   { lw.mu.Lock() }
func (lw *lineWriter) unlock() { lw.mu.Unlock() }

func (lw *lineWriter) writeLocked(p []byte) error {
	lw.write(p)
	return lw.bw.Flush()
}

func (lw *lineWriter) write(p []byte) {
	if len(p) == 0 {
		return
	}
	_, _ = lw.bw.Write(p) // an error sticks, and Flush returns it
	lw.midLine = p[len(p)-1] != '\n'
}

// upstream is the running child's stdin, as the relay of the client's
// lines sees it: present while a child is up and initialized, absent while
// it restarts, when the relay waits. Requests are registered as pending
// under the same lock as they are written, so that a child's exit, which
// answers every pending request, cannot miss one written to it.
type upstream struct {
	mu    sync.Mutex
	w     io.WriteCloser // nil while no child is ready
	bw    *bufio.Writer  // on w
	gen   uint64
	ready chan struct{} // closed when w is set
	// clientGone is set when the client closed its side: the child gets
	// end of input too, and no new child is started.
	clientGone bool
}

func newUpstream() *upstream { return &upstream{ready: make(chan struct{})} }

// lock waits until a child is ready and returns its stdin with the lock
// held; the caller must flush what it writes there, and unlock.
func (u *upstream) lock(ctx context.Context) (*bufio.Writer, uint64, error) {
	for {
		u.mu.Lock()
		if u.w != nil {
			return u.bw, u.gen, nil
		}
		ready := u.ready
		u.mu.Unlock()
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, 0, context.Cause(ctx)
		}
	}
}

func (u *upstream) unlock() { u.mu.Unlock() }

// setUp makes child gen's stdin the destination of the client's lines.
func (u *upstream) setUp(w io.WriteCloser, gen uint64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.clientGone {
		_ = w.Close()
	}
	u.w, u.bw, u.gen = w, bufio.NewWriterSize(w, writeBufferSize), gen
	close(u.ready)
}

// setDown makes the client's lines wait for the next child.
func (u *upstream) setDown() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.downLocked()
}

// downLocked is setDown for a caller holding the lock, whose write to the
// child failed: the child is gone, and the lines after it must wait for
// the next one rather than follow into a pipe nobody reads, before the
// child's exit has been seen.
func (u *upstream) downLocked() {
	if u.w != nil {
		u.w, u.bw = nil, nil
		u.ready = make(chan struct{})
	}
}

// closeInput passes the client's end of input on to the child.
func (u *upstream) closeInput() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.clientGone = true
	if u.w != nil {
		_ = u.w.Close()
	}
}

func (u *upstream) isClientGone() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.clientGone
}
