package httpguard

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
)

// A Token guards a listener with a bearer token.
type Token struct {
	// Secret must be presented as "Authorization: Bearer <Secret>". An
	// empty Secret lets every request through.
	Secret string
	// Consume removes the Authorization header from requests that passed,
	// for a handler that forwards them: the secret is this listener's, not
	// the next server's.
	Consume bool
}

// Handler wraps h so that requests without the token get 401 with a JSON
// body. The token is compared in constant time, so that the comparison
// leaks nothing of it.
func (t Token) Handler(h http.Handler) http.Handler {
	if t.Secret == "" {
		return h
	}
	want := []byte(t.Secret)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := BearerToken(r.Header.Get("Authorization"))
		if !ok || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="pbatunnel"`)
			b, _ := json.Marshal(map[string]string{"error": "missing or wrong bearer token: send Authorization: Bearer <token> (see --auth-token)"})
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write(append(b, '\n'))
			return
		}
		if t.Consume {
			r.Header.Del("Authorization")
		}
		h.ServeHTTP(w, r)
	})
}

// BearerToken returns the token of an Authorization header value that uses
// the Bearer scheme. The scheme is matched without regard to case, and
// spaces after it are skipped, as RFC 7235 and RFC 6750 allow.
func BearerToken(header string) (string, bool) {
	scheme, rest, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token := strings.TrimLeft(rest, " ")
	return token, token != ""
}
