// Package record keeps a recording of the messages a proxy relays, both
// ways, as JSON lines in a file: what a client and a server said to each
// other, when, in which session, with secrets redacted as payload capture
// redacts them. A recording is read back to replay a server, or to
// compare a server's answers with what they were.
//
// Recording never slows the relay: a message is copied into a bounded
// queue and written by a goroutine of its own; when the queue is full the
// message is dropped and counted.
package record

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/capture"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/batchq"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/jsonstr"
)

// Defaults of Options.
const (
	DefaultMaxBytes   = 64 << 20
	DefaultQueue      = 4096
	DefaultQueueBytes = 16 << 20
)

// Directions of a message.
const (
	ToServer = "to_server" // the client's message, as the proxy received it
	ToClient = "to_client" // the server's message, as the proxy received it
)

// Options configure Open. Path is required.
type Options struct {
	Path string
	// MaxBytes bounds the file: a line that would take it past the
	// bound first moves it to Path+".1" (replacing the one there) and
	// starts Path anew. Default DefaultMaxBytes.
	MaxBytes int64
	// RedactKeys name the keys whose values are redacted (nil:
	// capture.DefaultRedactKeys).
	RedactKeys []string
	// Queue bounds the messages waiting to be written, and QueueBytes
	// their bytes: a message past either is dropped, and counted.
	// Defaults DefaultQueue and DefaultQueueBytes.
	Queue      int
	QueueBytes int
}

// A Line is one line of a recording.
type Line struct {
	Time    time.Time `json:"time"`
	Dir     string    `json:"dir"`
	Session string    `json:"session,omitempty"`
	// Message is the JSON-RPC message (or batch), redacted.
	Message json.RawMessage `json:"message,omitempty"`
	// Omitted says why Message is absent: a line that was not JSON
	// (kept out rather than kept unredacted), or one longer than the
	// proxy holds. Bytes is its size.
	Omitted string `json:"omitted,omitempty"`
	Bytes   int    `json:"bytes,omitempty"`
}

// Stats say how the recording goes.
type Stats struct {
	Written   uint64 // lines written
	Dropped   uint64 // messages dropped because the queue was full
	Rotations uint64 // times the file was moved aside for a new one
	Failed    uint64 // lines a write failed to keep
}

// A Recorder records messages to a file. Safe for concurrent use.
type Recorder struct {
	opts   Options
	redact capture.Redactor
	// The writer wakes on its ticker, or when a quarter of the queue is
	// full, not at every message (see batchq).
	queue *batchq.Queue[entry]
	done  chan struct{}
	once  sync.Once

	written, dropped, rotations, failed atomic.Uint64

	f    *os.File // owned by Run
	w    *bufio.Writer
	size int64
	// cut is set when a write failed part way: the next line written
	// first ends the cut one, so that only that one is lost.
	cut bool
	buf []byte // the line being written, reused
}

var errNotJSON = errors.New("not JSON")

// appendLine appends l as JSON, as json.Marshal writes it, without the
// validation and compaction json.Marshal gives a RawMessage: the message
// was checked already, and is compacted here only when it spans lines.
func appendLine(b []byte, l *Line) []byte {
	b = append(b, `{"time":"`...)
	b = l.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","dir":`...)
	b = appendString(b, l.Dir)
	if l.Session != "" {
		b = append(b, `,"session":`...)
		b = appendString(b, l.Session)
	}
	if l.Message != nil {
		b = append(b, `,"message":`...)
		if bytes.ContainsAny(l.Message, "\r\n") {
			var c bytes.Buffer
			if json.Compact(&c, l.Message) == nil {
				b = append(b, c.Bytes()...)
			} else {
				b = append(b, "null"...)
			}
		} else {
			b = append(b, l.Message...)
		}
	}
	if l.Omitted != "" {
		b = append(b, `,"omitted":`...)
		b = appendString(b, l.Omitted)
	}
	if l.Bytes != 0 {
		b = append(b, `,"bytes":`...)
		b = strconv.AppendInt(b, int64(l.Bytes), 10)
	}
	return append(b, '}')
}

// appendString appends s as a JSON string, as json.Marshal writes it.
func appendString(b []byte, s string) []byte { return jsonstr.Append(b, s, jsonstr.AsEncodingJSON) }

type entry struct {
	at      time.Time
	dir     string
	session string
	raw     []byte // a copy; nil with omitted
	omitted string
	bytes   int
}

// Open opens (appending to, or creating) the recording at opts.Path.
// Messages are written once Run runs.
func Open(opts Options) (*Recorder, error) {
	if opts.Path == "" {
		return nil, errors.New("record: no file")
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.Queue <= 0 {
		opts.Queue = DefaultQueue
	}
	if opts.QueueBytes <= 0 {
		opts.QueueBytes = DefaultQueueBytes
	}
	r := &Recorder{opts: opts, redact: capture.NewRedactor(opts.RedactKeys), done: make(chan struct{}),
		queue: batchq.New[entry](opts.Queue, opts.QueueBytes, opts.Queue/4, opts.QueueBytes/4)}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Recorder) open() error {
	f, err := os.OpenFile(r.opts.Path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("record: %w", err)
	}
	r.f, r.w, r.size = f, bufio.NewWriterSize(f, 64<<10), st.Size()
	return nil
}

// Record queues a message for the recording; raw is copied, so the
// caller may reuse it at once. It never blocks: with the queue full the
// message is dropped and counted. A nil Recorder records nothing.
func (r *Recorder) Record(at time.Time, dir, session string, raw []byte) {
	if r == nil {
		return
	}
	r.put(entry{at: at, dir: dir, session: session, raw: append([]byte(nil), raw...)})
}

// Omit records that a message passed without its content: one too long
// for the proxy to hold, of size bytes.
func (r *Recorder) Omit(at time.Time, dir, session, why string, bytes int) {
	if r == nil {
		return
	}
	r.put(entry{at: at, dir: dir, session: session, omitted: why, bytes: bytes})
}

func (r *Recorder) put(e entry) {
	if !r.queue.Put(e, len(e.raw)) {
		r.dropped.Add(1)
	}
}

// writeInterval is how often the writer wakes to write what is queued:
// a recording is at most this far behind the relay, unless the queue
// fills faster.
const writeInterval = 50 * time.Millisecond

// Run writes the queued messages until ctx ends, then writes what is
// queued and closes the file. Run it once.
func (r *Recorder) Run(ctx context.Context) error {
	tick := time.NewTicker(writeInterval)
	defer tick.Stop()
	var batch []entry
	for {
		select {
		case <-r.queue.Kick():
			batch = r.writeQueued(batch)
		case <-tick.C:
			batch = r.writeQueued(batch)
			r.flush()
		case <-ctx.Done():
			r.once.Do(func() { close(r.done) })
			r.queue.Close()
			r.writeQueued(batch)
			r.flush()
			if r.f == nil {
				return nil
			}
			return r.f.Close()
		}
	}
}

// writeQueued writes what is queued now, handing batch (the slice taken
// last time) back to the queue; it returns the slice taken.
func (r *Recorder) writeQueued(batch []entry) []entry {
	taken := r.queue.Take(batch)
	for _, e := range taken {
		r.write(e)
	}
	return taken
}

func (r *Recorder) flush() {
	if r.w == nil {
		return
	}
	if err := r.w.Flush(); err != nil {
		r.broke()
	}
}

// broke counts a failed write and makes the writer usable again: a
// bufio.Writer keeps its first error for good, and a full disk may have
// room again later.
func (r *Recorder) broke() {
	r.failed.Add(1)
	r.w.Reset(r.f)
	r.cut = true
}

// write redacts e and appends it as a line, moving the file aside first
// when the line would take it past MaxBytes.
func (r *Recorder) write(e entry) {
	l := Line{Time: e.at.UTC(), Dir: e.dir, Session: e.session, Omitted: e.omitted, Bytes: e.bytes}
	if e.raw != nil {
		msg := e.raw
		var err error
		switch {
		case r.redact.MayHold(msg):
			msg, err = r.redact.Redact(msg)
		case !json.Valid(msg):
			err = errNotJSON
		}
		if err != nil {
			l.Omitted, l.Bytes = "not JSON", len(e.raw)
		} else {
			l.Message = msg
		}
	}
	b := appendLine(r.buf[:0], &l)
	r.buf = b
	b = append(b, '\n')
	if r.w != nil && r.size > 0 && r.size+int64(len(b)) > r.opts.MaxBytes {
		r.rotate()
	}
	if r.w == nil {
		r.failed.Add(1)
		return
	}
	if r.cut {
		b = append([]byte{'\n'}, b...)
		r.cut = false
	}
	if _, err := r.w.Write(b); err != nil {
		r.broke()
		return
	}
	r.size += int64(len(b))
	r.written.Add(1)
}

// rotate moves the file to Path.1 and starts a new one.
func (r *Recorder) rotate() {
	r.flush()
	r.f.Close()
	renamed := os.Rename(r.opts.Path, r.opts.Path+".1") == nil
	if !renamed {
		// The bound holds all the same: the file starts anew in place.
		r.failed.Add(1)
		if err := os.Truncate(r.opts.Path, 0); err != nil {
			r.f, r.w = nil, nil
			return
		}
	}
	if err := r.open(); err != nil {
		// The file cannot be made again: the lines after it go nowhere,
		// counted as failed, rather than stop the writer.
		r.f, r.w = nil, nil
		return
	}
	if renamed {
		r.rotations.Add(1)
	}
}

// Stats returns how the recording goes.
func (r *Recorder) Stats() Stats {
	if r == nil {
		return Stats{}
	}
	return Stats{Written: r.written.Load(), Dropped: r.dropped.Load(), Rotations: r.rotations.Load(), Failed: r.failed.Load()}
}
