package replay

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/capture"
)

// A Difference is a recorded request the live server answered otherwise,
// or one that could not be asked again.
type Difference struct {
	Method           string
	Params           any
	Recorded, Live   json.RawMessage // {"result": …} or {"error": …}, canonical
	LiveFailure      string          // the request got no answer: why
	Skipped          string          // the request was not sent: why
	RequestInOrdinal int             // 1 for the recording's first request
}

// request is the recorded request e as sent again under id, with its
// params as recorded (_meta too: a client of the stateless protocol names
// its version there); ok is false for one whose params hold a value the
// recording redacted, which the server would take for the value.
func request(e Exchange, id string) (msg []byte, ok bool) {
	if bytes.Contains(e.Sent, []byte(`"`+capture.Redacted+`"`)) {
		return nil, false
	}
	msg = append([]byte(`{"jsonrpc":"2.0","id":`+id+`,"method":`), quote(e.Method)...)
	if len(e.Sent) > 0 {
		msg = append(append(msg, `,"params":`...), e.Sent...)
	}
	return append(msg, '}'), true
}

// sameAs compares a live answer with the recorded one as the recording
// would have kept it: redacted (by the default keys, as proxy --record
// redacts unless told otherwise), keys sorted, spacing aside.
func sameAs(live, recorded json.RawMessage) (canonicalLive json.RawMessage, same bool) {
	if red, err := capture.NewRedactor(nil).Redact(live); err == nil {
		live = red
	}
	canonicalLive = canonical(live)
	return canonicalLive, bytes.Equal(canonicalLive, canonical(recorded))
}

// DefaultTimeout bounds the wait for each answer of a live server.
const DefaultTimeout = 30 * time.Second

// Against re-sends the recorded requests, in order and under ids of its
// own, to the MCP server cmd runs (over stdio), and returns the answers
// that differ from the recorded ones, compared as JSON (key order and
// spacing aside). The server's own requests to the client are answered
// with an error; its notifications are read and let go. cmd is started
// here and stopped at the end.
func Against(ctx context.Context, rec *Recording, cmd *exec.Cmd, timeout time.Duration) ([]Difference, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	pipe, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	// The requests and the answers to the server's own requests share
	// the pipe: one write at a time, so that no line cuts into another.
	in := &lockedWriter{w: pipe}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the server: %w", err)
	}
	stop := make(chan struct{})
	defer func() {
		close(stop)
		pipe.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	answers := make(chan json.RawMessage)
	gone := make(chan struct{}) // closed when the server's output ends
	go readAnswers(out, in, answers, gone, stop)
	return check(ctx, rec, &stdioPeer{in: in, answers: answers, gone: gone}, timeout)
}

// A peer is a live server requests are sent to.
type peer interface {
	// call sends a request and returns its answer, {"result": …} or
	// {"error": …}.
	call(ctx context.Context, msg []byte, id string) (json.RawMessage, error)
	// initialized follows a successful initialize: the session's
	// notification, and what the answer agreed.
	initialized(ctx context.Context, answer json.RawMessage) error
}

// initializedLine is the notification that follows an answered initialize.
const initializedLine = `{"jsonrpc":"2.0","method":"notifications/initialized"}`

// check sends the recording's requests to p, each within timeout, and
// returns the answers that differ.
func check(ctx context.Context, rec *Recording, p peer, timeout time.Duration) ([]Difference, error) {
	var diffs []Difference
	initialized := false
	for i, e := range rec.Exchanges {
		id := strconv.Itoa(i + 1)
		d := Difference{Method: e.Method, Params: e.Params, Recorded: canonical(e.Answer), RequestInOrdinal: i + 1}
		msg, ok := request(e, id)
		if !ok {
			d.Skipped = "its parameters hold a value the recording redacted"
			diffs = append(diffs, d)
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, timeout)
		live, err := p.call(rctx, msg, id)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return diffs, ctx.Err()
			}
			var fatal *writeError
			if errors.As(err, &fatal) {
				return diffs, err
			}
			d.LiveFailure = err.Error()
			diffs = append(diffs, d)
			continue
		}
		if d.Live, ok = sameAs(live, e.Answer); !ok {
			diffs = append(diffs, d)
		}
		if e.Method == "initialize" && !initialized {
			initialized = true
			if err := p.initialized(ctx, live); err != nil {
				return diffs, err
			}
		}
	}
	return diffs, nil
}

// writeError is a request that could not be sent: the check cannot go on.
type writeError struct{ err error }

func (e *writeError) Error() string { return "writing to the server: " + e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// stdioPeer is a server on the other end of pipes.
type stdioPeer struct {
	in      io.Writer
	answers <-chan json.RawMessage
	gone    <-chan struct{}
}

func (p *stdioPeer) call(ctx context.Context, msg []byte, id string) (json.RawMessage, error) {
	if _, err := p.in.Write(append(msg, '\n')); err != nil {
		return nil, &writeError{err}
	}
	live, failure := await(ctx, p.answers, p.gone, id)
	if failure != "" {
		return nil, errors.New(failure)
	}
	return live, nil
}

func (p *stdioPeer) initialized(context.Context, json.RawMessage) error {
	if _, err := io.WriteString(p.in, initializedLine+"\n"); err != nil {
		return &writeError{err}
	}
	return nil
}

// await waits for the answer with id, as {"result": …} or {"error": …},
// until ctx ends.
func await(ctx context.Context, answers <-chan json.RawMessage, gone <-chan struct{}, id string) (json.RawMessage, string) {
	for {
		select {
		case raw := <-answers:
			var m struct {
				ID     json.RawMessage `json:"id"`
				Result json.RawMessage `json:"result"`
				Error  json.RawMessage `json:"error"`
			}
			if json.Unmarshal(raw, &m) != nil || string(m.ID) != id {
				continue // a late answer to an earlier request
			}
			answer := map[string]json.RawMessage{"result": m.Result}
			if m.Error != nil {
				answer = map[string]json.RawMessage{"error": m.Error}
			}
			b, _ := json.Marshal(answer)
			return b, ""
		case <-gone:
			return nil, "the server's output ended"
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, "no answer within the timeout"
			}
			return nil, ctx.Err().Error()
		}
	}
}

// readAnswers hands on the server's responses; it answers the server's
// requests with an error (the recording holds no client to ask) and
// drops its notifications.
func readAnswers(out io.Reader, in io.Writer, answers chan<- json.RawMessage, gone chan<- struct{}, stop <-chan struct{}) {
	defer close(gone)
	sc := bufio.NewScanner(out)
	sc.Buffer(nil, maxRecordLine)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		for _, raw := range messages(line) {
			var m struct {
				ID     json.RawMessage `json:"id"`
				Method string          `json:"method"`
			}
			if json.Unmarshal(raw, &m) != nil {
				continue
			}
			switch {
			case m.Method != "" && len(m.ID) > 0:
				_, _ = in.Write(append(errorResponse(m.ID, codeNoMethod, "the replay has no client to answer "+m.Method), '\n'))
			case m.Method == "":
				select {
				case answers <- append(json.RawMessage(nil), raw...):
				case <-stop:
					return
				}
			}
		}
	}
}

// canonical is JSON with its keys sorted and no spacing.
func canonical(raw json.RawMessage) json.RawMessage {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return raw
	}
	b, err := json.Marshal(v)
	if err != nil {
		return raw
	}
	return b
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// WriteDiff writes the differences as a person reads them.
func WriteDiff(w io.Writer, diffs []Difference) {
	for _, d := range diffs {
		p, _ := json.Marshal(d.Params)
		fmt.Fprintf(w, "request %d: %s %s\n", d.RequestInOrdinal, d.Method, cut(string(p)))
		if d.Skipped != "" {
			fmt.Fprintf(w, "  not sent: %s\n", d.Skipped)
			continue
		}
		fmt.Fprintf(w, "  recorded: %s\n", d.Recorded)
		if d.LiveFailure != "" {
			fmt.Fprintf(w, "  live:     (%s)\n", d.LiveFailure)
		} else {
			fmt.Fprintf(w, "  live:     %s\n", d.Live)
		}
	}
}

// lockedWriter serialises whole writes.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
