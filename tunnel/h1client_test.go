package tunnel

import (
	"bufio"
	"bytes"
	"net/http"
	"net/url"
	"testing"
)

// writeRequest must write what http.Request.Write writes, byte for byte.
func TestWriteRequestAsRequestWrite(t *testing.T) {
	body := []byte(`{"jsonrpc":"2.0","id":1,"method":"ping"}`)
	for _, tt := range []struct {
		endpoint string
		header   http.Header
	}{
		{"http://127.0.0.1:8080/mcp", http.Header{
			"User-Agent": {"client/1.0"}, "Content-Type": {"application/json"},
			"Accept": {"application/json, text/event-stream"}, "Mcp-Session-Id": {"s-1"},
			"X-Multi": {"a", "b"}, "Content-Length": {"999"}, "Host": {"elsewhere"},
		}},
		{"http://localhost/a%2Fb/mcp", http.Header{"User-Agent": {""}}},
		{"http://[::1]:3000/", http.Header{"User-Agent": {"  padded  "}}},
	} {
		u, err := url.Parse(tt.endpoint)
		if err != nil {
			t.Fatal(err)
		}
		c, err := newH1Client(u)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		bw := bufio.NewWriter(&got)
		if err := c.writeRequest(bw, tt.header, body); err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, tt.endpoint, bytes.NewReader(body))
		req.Header = tt.header
		var want bytes.Buffer
		if err := req.Write(&want); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: wrote\n%q\nwant\n%q", tt.endpoint, got.String(), want.String())
		}
	}
}
