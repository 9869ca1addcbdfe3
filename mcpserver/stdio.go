package mcpserver

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Defaults of StdioOptions.
const (
	// DefaultMaxLineSize is the largest message read from stdin, as the
	// SDK's own default.
	DefaultMaxLineSize = 16 << 20
	// DefaultDrainTimeout is how long requests already read may go on
	// after the client closed stdin, for their answers to be written.
	DefaultDrainTimeout = 30 * time.Second
)

// StdioOptions configure ServeStdio. The zero value serves os.Stdin and
// os.Stdout with the defaults above.
type StdioOptions struct {
	In  io.Reader // default os.Stdin
	Out io.Writer // default os.Stdout
	// MaxLineSize bounds a message; a longer line is answered with an
	// Invalid Request error and skipped.
	MaxLineSize int
	// DrainTimeout bounds the wait, after stdin closes, for the requests
	// already read to be answered.
	DrainTimeout time.Duration
	// OnBadLine, when set, is told of each line answered with an error
	// instead of being served, with the error's code and message.
	OnBadLine func(code int64, message string)
}

// A StdioSummary says how a stdio session went and why it ended.
type StdioSummary struct {
	Requests int // requests read (calls, not notifications)
	Invalid  int // lines answered with a parse or invalid-request error
	// ClientClosed is true when the session ended because the client
	// closed stdin; false when the context ended or a read or write failed.
	ClientClosed bool
	// Unanswered counts the requests that had no answer when the session
	// ended (after a cancelled context or a failure), or at the drain
	// timeout: those are then cancelled, and answered with an error if
	// they end at all.
	Unanswered int
	// DrainTimedOut is set when requests were still running
	// DrainTimeout after the client closed stdin.
	DrainTimedOut bool
}

// Reason is the summary as a log line's stop reason.
func (s StdioSummary) Reason() string {
	var b strings.Builder
	if s.ClientClosed {
		b.WriteString("the MCP client closed stdin")
	} else {
		b.WriteString("MCP over stdio ended")
	}
	fmt.Fprintf(&b, " after %s", plural(s.Requests, "request"))
	switch {
	case s.Unanswered == 0:
		b.WriteString(", all answered")
	case s.DrainTimedOut:
		fmt.Fprintf(&b, "; %d still running at the drain timeout were abandoned", s.Unanswered)
	default:
		fmt.Fprintf(&b, "; %d left unanswered", s.Unanswered)
	}
	if s.Invalid > 0 {
		fmt.Fprintf(&b, "; %s answered with errors", plural(s.Invalid, "invalid line"))
	}
	return b.String()
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// ServeStdio serves srv on newline-delimited JSON-RPC (stdin and stdout by
// default) until the client closes its input or ctx ends.
//
// It puts a framing layer in front of the SDK's transport, which ends the
// session on the first line it cannot decode and, at end of input, drops
// the requests still running. Here:
//   - a line that is not JSON is answered with a -32700 Parse error, one
//     that is JSON but not a JSON-RPC message (or a batch where the
//     negotiated protocol has none) with -32600 Invalid Request, both
//     with "id": null unless the message's id can be read, and serving
//     goes on, before initialization and after;
//   - at end of input, every request already read is finished and
//     answered (up to DrainTimeout) before the session ends; a request
//     the client cancelled is not waited for.
func ServeStdio(ctx context.Context, srv *mcp.Server, opts *StdioOptions) (StdioSummary, error) {
	var o StdioOptions
	if opts != nil {
		o = *opts
	}
	if o.In == nil {
		o.In = os.Stdin
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.MaxLineSize <= 0 {
		o.MaxLineSize = DefaultMaxLineSize
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = DefaultDrainTimeout
	}
	f := newFraming(ctx, o)
	// The SDK's own limit is set above ours so that it never refuses what
	// the framing passed.
	err := srv.Run(ctx, codedTransport{&mcp.IOTransport{Reader: f, Writer: f.out, MaxLineLength: o.MaxLineSize + 1024}, f})
	f.forgetExchanges()
	return f.summary(), err
}
