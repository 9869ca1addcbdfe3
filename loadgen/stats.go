package loadgen

import (
	"cmp"
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The error kinds of Summary.Errors, beside the JSON-RPC codes, which are
// keyed by their number ("-32602").
const (
	ErrToolError = "tool_error"
	ErrTimeout   = "timeout"
	ErrTransport = "transport"
)

// A failure is how a call failed: its kind and its message.
type failure struct {
	kind, message string
}

// classify names how a call failed, a zero failure for success, with the
// message the server or the client gave. interrupted reports a call cut
// short by the end of the run, which measures nothing.
func classify(runCtx context.Context, res *mcp.CallToolResult, err error) (f failure, interrupted bool) {
	if err == nil {
		if res != nil && res.IsError {
			return failure{ErrToolError, resultText(res)}, false
		}
		return failure{}, false
	}
	var rpcErr *jsonrpc.Error
	switch {
	case errors.As(err, &rpcErr):
		return failure{strconv.FormatInt(rpcErr.Code, 10), rpcErr.Message}, false
	case runCtx.Err() != nil:
		return failure{}, true
	case errors.Is(err, context.DeadlineExceeded):
		return failure{ErrTimeout, err.Error()}, false
	}
	return failure{ErrTransport, err.Error()}, false
}

// Bounds on the error messages a run keeps: a server that puts an id in
// every message must not make the summary, or the memory, grow with the
// calls.
const (
	// maxMessages bounds the distinct messages counted; the calls of any
	// further one count under otherMessages.
	maxMessages = 100
	// MaxMessageBytes bounds a message as kept; a longer one is cut.
	MaxMessageBytes = 160
	// MaxTopErrors is how many messages Summary.TopErrors holds at most.
	MaxTopErrors = 5
)

// otherMessages is the message of the calls whose own message came after
// maxMessages others.
const otherMessages = "(other messages)"

// shortMessage puts msg on one line, with runs of white space as one
// space, and cuts it to at most max bytes on a character boundary.
func shortMessage(msg string, max int) string {
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) <= max {
		return msg
	}
	const ellipsis = "…"
	cut := max - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + ellipsis
}

// stats collects the measured calls of a run from every worker.
type stats struct {
	mu sync.Mutex
	// latencies are those of the calls the server answered, kept whole so
	// that percentiles are exact: 8 bytes a call is little even for millions.
	latencies []time.Duration
	calls     int64
	errors    map[string]int64
	messages  map[failure]int64
}

func newStats() *stats { return &stats{errors: map[string]int64{}, messages: map[failure]int64{}} }

func (s *stats) record(d time.Duration, f failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if f.kind != "" {
		s.errors[f.kind]++
		f.message = shortMessage(f.message, MaxMessageBytes)
		if _, ok := s.messages[f]; !ok && len(s.messages) >= maxMessages {
			f.message = otherMessages
		}
		s.messages[f]++
	}
	// A timeout's or a broken connection's duration is the timeout or the
	// failure's, not the server's answer time.
	if f.kind != ErrTimeout && f.kind != ErrTransport {
		s.latencies = append(s.latencies, d)
	}
}

// Snapshot is the progress of a run so far.
type Snapshot struct {
	Elapsed  time.Duration
	Calls    int64
	Errors   int64
	P50, P99 time.Duration
}

// Throughput is calls per second so far.
func (s Snapshot) Throughput() float64 { return perSecond(s.Calls, s.Elapsed) }

func (s *stats) snapshot(elapsed time.Duration) Snapshot {
	s.mu.Lock()
	lat := slices.Clone(s.latencies)
	snap := Snapshot{Elapsed: elapsed, Calls: s.calls}
	for _, n := range s.errors {
		snap.Errors += n
	}
	s.mu.Unlock()
	// Sorting outside the lock keeps the workers recording meanwhile.
	slices.Sort(lat)
	snap.P50, snap.P99 = percentile(lat, 50), percentile(lat, 99)
	return snap
}

// percentile is the nearest-rank percentile p of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// Latencies are in milliseconds in JSON, the unit people read them in.
type Latencies struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Summary is the result of a run.
type Summary struct {
	Target      string  `json:"target"`
	Workload    string  `json:"workload"`
	Concurrency int     `json:"concurrency"`
	DurationSec float64 `json:"duration_seconds"`
	Calls       int64   `json:"calls"`
	// Throughput is calls per second.
	Throughput float64 `json:"throughput"`
	// LatencyMS covers the calls the server answered, tool and JSON-RPC
	// errors included; Answered says how many.
	LatencyMS Latencies        `json:"latency_ms"`
	Answered  int              `json:"answered"`
	Errors    map[string]int64 `json:"errors"`
	// ErrorCount is the sum of Errors.
	ErrorCount int64 `json:"error_count"`
	// TopErrors are the most frequent failures by kind and message, most
	// frequent first, at most MaxTopErrors of them; empty without errors.
	TopErrors []ErrorMessage `json:"top_errors"`
	// Interrupted is set when the context ended the run early.
	Interrupted bool `json:"interrupted"`
	// ConnectionLost, when set, says how a session's connection closed
	// during the run; the workers on it stopped there.
	ConnectionLost string `json:"connection_lost,omitempty"`
}

// ErrorMessage is one kind of failure with one message, and how many
// calls failed so. Message is on one line and at most MaxMessageBytes long.
type ErrorMessage struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
	Count   int64  `json:"count"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (s *stats) summary(o Options, elapsed time.Duration, interrupted bool) *Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	lat := slices.Clone(s.latencies)
	slices.Sort(lat)
	sum := &Summary{
		Target:      o.Target.Name,
		Workload:    o.Workload.Name(),
		Concurrency: o.Concurrency,
		DurationSec: elapsed.Seconds(),
		Calls:       s.calls,
		Throughput:  perSecond(s.calls, elapsed),
		Answered:    len(lat),
		Errors:      map[string]int64{},
		Interrupted: interrupted,
	}
	if len(lat) > 0 {
		sum.LatencyMS = Latencies{
			P50: ms(percentile(lat, 50)),
			P90: ms(percentile(lat, 90)),
			P99: ms(percentile(lat, 99)),
			Max: ms(lat[len(lat)-1]),
		}
	}
	for k, n := range s.errors {
		sum.Errors[k] = n
		sum.ErrorCount += n
	}
	sum.TopErrors = make([]ErrorMessage, 0, len(s.messages))
	for f, n := range s.messages {
		sum.TopErrors = append(sum.TopErrors, ErrorMessage{Kind: f.kind, Message: f.message, Count: n})
	}
	// Most frequent first; ties in a fixed order, so that a summary reads
	// the same each time.
	slices.SortFunc(sum.TopErrors, func(a, b ErrorMessage) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Message, b.Message))
	})
	sum.TopErrors = sum.TopErrors[:min(len(sum.TopErrors), MaxTopErrors)]
	return sum
}
