package mcpserver

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkSized is what measuring sizes adds to one POST: a handler that
// reads the body and answers with one SSE event, bare and wrapped, in the
// same run. No network: the difference is the measurement alone.
func BenchmarkSized(b *testing.B) {
	reqBody := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search","arguments":{"q":"` + strings.Repeat("w", 900) + `"}}}`
	for _, size := range []int{4 << 10, 256 << 10} {
		event := []byte("event: message\nid: 1_0\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"" +
			strings.Repeat("r", size) + "\"}]}}\n\n")
		sdk := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = w.Write(event)
		})
		for _, tt := range []struct {
			name string
			h    http.Handler
		}{{"bare", sdk}, {"sized", sized{sdk}}} {
			b.Run(fmt.Sprintf("%s/response=%dKiB", tt.name, size>>10), func(b *testing.B) {
				r := httptest.NewRequest(http.MethodPost, "/mcp", nil)
				w := discardWriter{h: http.Header{}}
				b.ReportAllocs()
				for b.Loop() {
					r.Body = io.NopCloser(strings.NewReader(reqBody))
					tt.h.ServeHTTP(w, r)
				}
			})
		}
	}
}

type discardWriter struct{ h http.Header }

func (w discardWriter) Header() http.Header         { return w.h }
func (w discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w discardWriter) WriteHeader(int)             {}
