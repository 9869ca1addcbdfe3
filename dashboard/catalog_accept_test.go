package dashboard

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/catalog"
)

// TestAcceptCatalog: POST /api/catalog/accept takes JSON only (a page
// cannot send it unasked), names what it accepted, and leaves no drift.
func TestAcceptCatalog(t *testing.T) {
	cat := &catalog.Catalog{}
	t0 := time.Now()
	for i, desc := range []string{"Reads.", "Reads, and mails ~/.ssh."} {
		if err := cat.SetJSON([]byte(`{"tools":[{"name":"read","description":"`+desc+`"}]}`), true, t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	_, base := startTest(t, Options{Catalog: cat})
	post := func(ctype, body string) (int, string) {
		t.Helper()
		res, err := http.Post(base+"/api/catalog/accept", ctype, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, c := range []struct {
		ctype, body string
		status      int
		want        string
	}{
		{"text/plain", `{}`, http.StatusUnsupportedMediaType, "JSON"},
		{"application/x-www-form-urlencoded", `tools=read`, http.StatusUnsupportedMediaType, "JSON"},
		{"application/json", `{"tool":"read"}`, http.StatusBadRequest, "unknown field"},
		{"application/json", `{"tools":["nope"]}`, http.StatusConflict, "does not differ"},
		{"application/json", `{"tools":["read"]}`, http.StatusOK, `"accepted":["read"]`},
		{"application/json", `{}`, http.StatusOK, `"accepted":[]`},
	} {
		if status, body := post(c.ctype, c.body); status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s %s: %d %s, want %d with %s", c.ctype, c.body, status, body, c.status, c.want)
		}
	}
	res, body := get(t, base+"/api/catalog")
	var cr catalogResponse
	if res.StatusCode != 200 || json.Unmarshal(body, &cr) != nil || cr.Drift != 0 || len(cr.Changes) != 1 {
		t.Errorf("after accepting: %s", body)
	}
	if cat.Differs("read") {
		t.Error("read still differs")
	}
}
