package dashboard

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// writeJSON writes v with the given status. Encoding errors after the
// header has gone out can only be logged, so values are marshalled first.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(map[string]string{"error": "encoding response: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// writeRaw writes JSON already encoded.
func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError writes {"error": msg} with status: every error of the API has
// this one shape.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// methods wraps h so that only the given methods reach it; others get 405
// with an Allow header. GET also allows HEAD.
func methods(h http.HandlerFunc, allowed ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for _, m := range allowed {
			if r.Method == m || (m == http.MethodGet && r.Method == http.MethodHead) {
				h(w, r)
				return
			}
		}
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed on "+r.URL.Path+"; use "+strings.Join(allowed, " or "))
	}
}

// checkParams rejects query parameters the route does not know, so that a
// typo ("metrics=" for "metric=") is an error rather than silently ignored,
// and a query string that does not parse: URL.Query drops a pair it cannot
// decode ("since=%ZZ"), which would answer with the default instead.
func checkParams(w http.ResponseWriter, r *http.Request, known ...string) bool {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeError(w, http.StatusBadRequest, "malformed query string: "+err.Error())
		return false
	}
	for k := range q {
		ok := false
		for _, n := range known {
			if k == n {
				ok = true
				break
			}
		}
		if !ok {
			msg := "unknown query parameter " + quote(k)
			if len(known) > 0 {
				msg += "; this route takes " + strings.Join(known, ", ")
			} else {
				msg += "; this route takes none"
			}
			writeError(w, http.StatusBadRequest, msg)
			return false
		}
	}
	return true
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// singleParam returns the value of a parameter that may be given once, and
// false after answering 400 when it is given more often: which of two
// values was meant cannot be guessed.
func singleParam(w http.ResponseWriter, q url.Values, name string) (string, bool) {
	if vs := q[name]; len(vs) > 1 {
		writeError(w, http.StatusBadRequest, name+" is given "+strconv.Itoa(len(vs))+" times; give it once")
		return "", false
	}
	return q.Get(name), true
}
