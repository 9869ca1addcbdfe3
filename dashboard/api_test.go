package dashboard

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// A query string that does not parse, or a single-valued parameter given
// twice, is refused with 400 on every route that takes parameters, never
// answered as if the parameter were absent.
func TestQueryRefusedRatherThanDefaulted(t *testing.T) {
	_, base := startTest(t, Options{})
	tests := []struct {
		path, contains string
	}{
		{"/api/history?metric=cpu_usage_percent&since=%ZZ", `malformed query string: invalid URL escape \"%ZZ\"`},
		{"/api/history?metric=cpu_usage_percent%ZZ", "malformed query string"},
		{"/api/history?metric=cpu_usage_percent;since=5m", "malformed query string"},
		{"/api/history?metric=cpu_usage_percent&since=5m&since=1h", "since is given 2 times; give it once"},
		{"/api/metrics?format=%ZZ", "malformed query string"},
		{"/api/metrics?format=text&format=json", "format is given 2 times"},
		{"/api/health?%ZZ", "malformed query string"},
		{"/api/tools?%ZZ", "malformed query string"},
		{"/api/alerts?%ZZ", "malformed query string"},
		{"/api/config?%ZZ", "malformed query string"},
		{"/api/stream?%ZZ", "malformed query string"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, err := http.Get(base + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			// Only an answer is read: a stream that wrongly starts never ends.
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", res.StatusCode)
			}
			body, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(body) || !strings.Contains(string(body), tt.contains) {
				t.Errorf("body %s; want JSON saying %q", body, tt.contains)
			}
		})
	}
}
