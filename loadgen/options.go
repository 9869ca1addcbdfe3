package loadgen

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Target is the MCP server under load.
type Target struct {
	// Name describes the target in the summary: a URL or a command line.
	Name string
	// NewTransport returns the transport of one session.
	NewTransport func() mcp.Transport
	// Shared makes all workers use one session. A stdio server is one
	// process with one session, and starting one process per worker would
	// measure N servers instead of one; the SDK lets workers call through one
	// session concurrently.
	Shared bool
}

// CommandTarget runs argv as a stdio MCP server, its stderr going to stderr
// so that a server failing to start says why.
func CommandTarget(argv []string, stderr io.Writer) Target {
	return Target{
		Name: strings.Join(argv, " "),
		NewTransport: func() mcp.Transport {
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Stderr = stderr
			return &mcp.CommandTransport{Command: cmd, TerminateDuration: 2 * time.Second}
		},
		Shared: true,
	}
}

// URLTarget opens one Streamable HTTP session per worker at url.
func URLTarget(url string, client *http.Client) Target {
	return Target{
		Name: url,
		NewTransport: func() mcp.Transport {
			return &mcp.StreamableClientTransport{
				Endpoint:   url,
				HTTPClient: client,
				// A load generator measures the server as it is: a retried
				// request would hide the failure and count as one slow call.
				MaxRetries: -1,
				// Only responses to our calls matter; the extra GET stream
				// per session would be load the benchmark does not ask for.
				DisableStandaloneSSE: true,
			}
		},
	}
}

// Options configure Run.
type Options struct {
	Target   Target
	Workload Workload
	// Concurrency is the number of workers calling at once (default 1).
	Concurrency int
	// Count stops after this many measured calls; Duration stops issuing
	// calls after this long. At most one is set; neither means until ctx ends.
	Count    int64
	Duration time.Duration
	// Warmup calls run before the measured ones and are not recorded.
	Warmup int64
	// Timeout bounds each call (default 30s).
	Timeout time.Duration
	// Seed makes the random words repeatable; 0 picks one from the clock.
	Seed uint64
	// Progress, when set, receives a snapshot every ProgressEvery during the
	// measured calls, from one goroutine that ends before Run returns.
	Progress      func(Snapshot)
	ProgressEvery time.Duration
}

// DefaultTimeout is the per-call timeout when Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// withDefaults fills the zero fields and rejects inconsistent options.
func (o Options) withDefaults() (Options, error) {
	if o.Concurrency == 0 {
		o.Concurrency = 1
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = time.Second
	}
	if o.Seed == 0 {
		o.Seed = uint64(time.Now().UnixNano())
	}
	switch {
	case o.Target.NewTransport == nil:
		return o, errors.New("no target")
	case o.Workload == nil:
		return o, errors.New("no workload")
	case o.Concurrency < 0:
		return o, fmt.Errorf("concurrency must be positive, got %d", o.Concurrency)
	case o.Count < 0:
		return o, fmt.Errorf("count must be positive, got %d", o.Count)
	case o.Duration < 0:
		return o, fmt.Errorf("duration must be positive, got %v", o.Duration)
	case o.Count > 0 && o.Duration > 0:
		return o, errors.New("count and duration are exclusive")
	case o.Warmup < 0:
		return o, fmt.Errorf("warmup must not be negative, got %d", o.Warmup)
	case o.Timeout < 0:
		return o, fmt.Errorf("timeout must be positive, got %v", o.Timeout)
	}
	return o, nil
}
