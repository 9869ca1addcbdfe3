package tunnel_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
)

// countingTransport counts the requests it makes.
type countingTransport struct {
	http.RoundTripper
	n atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.RoundTripper.RoundTrip(r)
}

// TestHTTPSetsConfiguredHeaders sends every kind of request through the
// tunnel, on both of its ways to the server: the configured headers must
// reach the server on each, in place of the client's.
func TestHTTPSetsConfiguredHeaders(t *testing.T) {
	type seen struct {
		Method, Path          string
		Authorization, Tenant []string
	}
	var (
		mu  sync.Mutex
		got []seen
	)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		got = append(got, seen{r.Method, r.URL.Path, r.Header.Values("Authorization"), r.Header.Values("X-Tenant")})
		mu.Unlock()
		switch r.Method {
		case http.MethodPost:
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, toolAnswer)
		case http.MethodGet:
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{}}\n\n")
		}
	}))
	defer up.Close()

	requests := []struct{ method, path, body, accept string }{
		{http.MethodPost, "/mcp", toolCall, "application/json, text/event-stream"},
		{http.MethodGet, "/mcp", "", "text/event-stream"},
		{http.MethodDelete, "/mcp", "", ""},
		{http.MethodGet, "/.well-known/oauth-protected-resource", "", ""},
	}
	for _, tt := range []struct {
		name      string
		transport *countingTransport // nil: the tunnel's own connections for the POST
	}{
		{name: "own connections"},
		{name: "transport", transport: &countingTransport{RoundTripper: &http.Transport{}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got = nil
			opts := tunnel.HTTPOptions{Header: http.Header{
				"authorization": {"Bearer up-secret"}, // any spelling replaces the client's
				"X-Tenant":      {"t1", "t2"},
			}}
			if tt.transport != nil {
				opts.Transport = tt.transport
			}
			_, proxy := startHTTPTunnel(t, newMonitor(), up.URL+"/mcp", opts)
			client := newClient(t)
			for _, r := range requests {
				req, _ := http.NewRequest(r.method, proxy.URL+r.path, strings.NewReader(r.body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer client-token")
				req.Header.Set("X-Tenant", "client")
				if r.accept != "" {
					req.Header.Set("Accept", r.accept)
				}
				res, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					t.Errorf("%s %s: status %d", r.method, r.path, res.StatusCode)
				}
			}
			var want []seen
			for _, r := range requests {
				want = append(want, seen{r.method, r.path, []string{"Bearer up-secret"}, []string{"t1", "t2"}})
			}
			mu.Lock()
			defer mu.Unlock()
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("the server got (-want +got):\n%s", diff)
			}
			if tt.transport != nil && tt.transport.n.Load() != int64(len(requests)) {
				t.Errorf("the Transport made %d requests, want all %d", tt.transport.n.Load(), len(requests))
			}
		})
	}
}

func TestNewHTTPRefusesBadHeaders(t *testing.T) {
	for _, tt := range []struct {
		name   string
		header http.Header
		want   string
	}{
		{name: "hop-by-hop", header: http.Header{"Connection": {"close"}}, want: "header Connection cannot be set for the upstream: hop-by-hop"},
		{name: "transfer encoding", header: http.Header{"transfer-encoding": {"chunked"}}, want: "header transfer-encoding cannot be set"},
		{name: "host", header: http.Header{"Host": {"other.example"}}, want: "header Host cannot be set for the upstream: taken from the upstream URL"},
		{name: "content length", header: http.Header{"Content-Length": {"3"}}, want: "header Content-Length cannot be set"},
		{name: "accept encoding", header: http.Header{"Accept-Encoding": {"gzip"}}, want: "header Accept-Encoding cannot be set"},
		{name: "bad name", header: http.Header{"X Tenant": {"t1"}}, want: `header name "X Tenant"`},
		{name: "empty name", header: http.Header{"": {"t1"}}, want: `header name ""`},
		{name: "line break", header: http.Header{"Authorization": {"Bearer s3cret\r\nX-Evil: 1"}}, want: "the value of header Authorization holds a line break"},
		{name: "nul", header: http.Header{"X-Tenant": {"a\x00b"}}, want: "the value of header X-Tenant holds"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tunnel.NewHTTP(newMonitor(), "http://127.0.0.1:1/mcp", tunnel.HTTPOptions{Header: tt.header})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewHTTP = %v, want an error with %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the error %q shows the header's value", err)
			}
		})
	}
}
