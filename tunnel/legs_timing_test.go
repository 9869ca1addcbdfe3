package tunnel_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
	"github.com/mcp-pba-tunnel/pbatunnel/telemetry"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
)

// BenchmarkHTTPTracingLegs splits BenchmarkHTTPTracing's calls (go-sdk
// client and tunnels in this process, the go-sdk server in its own) into
// legs, timed from outside the tunnel: the client to the tunnel's handler;
// in the tunnel, until it hands the request to its Transport; the server,
// until the answer's first bytes come back; in the tunnel again, until it
// writes them to the client; and on to the client. Each leg's figure is
// the difference of the medians, with tracing against without, calls
// paired as testenv.Paired pairs them; "traced-client" sends its own
// trace context, so that the server reads a _meta in both arms.
func BenchmarkHTTPTracingLegs(b *testing.B) {
	for _, mode := range []string{"on", "traced-client"} {
		b.Run(mode, func(b *testing.B) {
			params := echoParams
			if mode == "traced-client" {
				params = tracingParams("on-traced-client")
			}
			up := startBenchProcess(b, "mcp")
			off, on := newLegTimer(b, up, nil), newLegTimer(b, up, testenv.Telemetry(b, false))
			_, _ = testenv.Paired(b, off.call(b, params), on.call(b, params))
			for i, name := range legNames {
				b.ReportMetric(median(on.legs[i])-median(off.legs[i]), name+"-µs")
			}
		})
	}
}

var legNames = [5]string{"to-tunnel", "tunnel-request", "server", "tunnel-answer", "to-client"}

// A legTimer is a tunnel to the server at up, with clocks around it.
type legTimer struct {
	cs *mcp.ClientSession
	// when the handler was entered, the request handed on, the answer's
	// first bytes read, and first written to the client: unix ns
	arrived, forwarded, answered, relayed atomic.Int64
	legs                                  [5][]float64
}

func newLegTimer(b *testing.B, up string, tel *telemetry.Telemetry) *legTimer {
	lt := &legTimer{}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost, transport.DisableCompression = 64, true
	b.Cleanup(transport.CloseIdleConnections)
	h, err := tunnel.NewHTTP(newMonitor(), up+"/mcp", tunnel.HTTPOptions{
		Logger:    slog.New(slog.DiscardHandler),
		Observers: tunnel.Observers{Telemetry: tel},
		Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodPost {
				lt.forwarded.Store(time.Now().UnixNano())
			}
			res, err := transport.RoundTrip(r)
			if err == nil && r.Method == http.MethodPost {
				res.Body = &firstRead{ReadCloser: res.Body, at: &lt.answered}
			}
			return res, err
		}),
	})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			lt.arrived.Store(time.Now().UnixNano())
			w = &firstWrite{ResponseWriter: w, at: &lt.relayed}
		}
		h.ServeHTTP(w, r)
	}))
	b.Cleanup(srv.Close)
	lt.cs = connectHTTP(b, srv.URL+"/mcp")
	return lt
}

// call is one timed tools/call of params, its legs noted.
func (lt *legTimer) call(b *testing.B, params *mcp.CallToolParams) func() {
	return func() {
		start := time.Now().UnixNano()
		if _, err := lt.cs.CallTool(context.Background(), params); err != nil {
			b.Fatal(err)
		}
		end := time.Now().UnixNano()
		at := [6]int64{start, lt.arrived.Load(), lt.forwarded.Load(), lt.answered.Load(), lt.relayed.Load(), end}
		for i := range lt.legs {
			lt.legs[i] = append(lt.legs[i], float64(at[i+1]-at[i])/1000)
		}
	}
}

func median(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	x = slices.Clone(x)
	slices.Sort(x)
	return x[len(x)/2]
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// firstRead notes when a body's first bytes are read.
type firstRead struct {
	io.ReadCloser
	at   *atomic.Int64
	seen bool
}

func (f *firstRead) Read(p []byte) (int, error) {
	n, err := f.ReadCloser.Read(p)
	if n > 0 && !f.seen {
		f.seen = true
		f.at.Store(time.Now().UnixNano())
	}
	return n, err
}

// firstWrite notes when a response's first body bytes are written.
type firstWrite struct {
	http.ResponseWriter
	at   *atomic.Int64
	seen bool
}

func (f *firstWrite) Write(p []byte) (int, error) {
	if !f.seen && len(p) > 0 {
		f.seen = true
		f.at.Store(time.Now().UnixNano())
	}
	return f.ResponseWriter.Write(p)
}

func (f *firstWrite) Unwrap() http.ResponseWriter { return f.ResponseWriter }
