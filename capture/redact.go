package capture

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
)

// DefaultRedactKeys are the key names whose values are redacted unless
// others are given. A key matches when, lower case and without '_', '-'
// and spaces, it contains one of them likewise folded: "X-Api-Key",
// "apiKey" and "github_api_key" all match "api_key".
var DefaultRedactKeys = []string{"password", "secret", "token", "authorization", "api_key", "cookie"}

// Redacted is what a redacted value becomes.
const Redacted = "[redacted]"

// fold lower-cases s and drops the separators that vary between naming
// styles.
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '_', '-', ' ':
			return -1
		}
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// A Redactor redacts the values of secret keys in JSON, as payload
// capture does; for other keepers of what clients send (the recording of a
// proxy's messages). The zero value redacts nothing.
type Redactor struct{ r redactor }

// NewRedactor redacts the keys named (nil: DefaultRedactKeys), matched as
// DefaultRedactKeys describes.
func NewRedactor(keys []string) Redactor {
	if keys == nil {
		keys = DefaultRedactKeys
	}
	return Redactor{newRedactor(keys)}
}

// Redact returns raw with the values of secret keys replaced, at any
// depth, JSON held in strings included; raw itself when nothing changed.
// Input that is not JSON is an error.
func (r Redactor) Redact(raw []byte) ([]byte, error) { return r.r.redact(raw) }

// MayHold reports whether raw may hold a key to redact: false means it
// holds none, and Redact would return it unchanged. A cheap scan of the
// bytes, folded as keys are, for a recorder that sees every message and
// must not decode each one to find out.
func (r Redactor) MayHold(raw []byte) bool {
	if len(r.r.keys) == 0 {
		return false
	}
	buf := foldPool.Get().(*[]byte)
	defer foldPool.Put(buf)
	f := (*buf)[:0]
	for _, c := range raw {
		switch {
		case c == '_' || c == '-' || c == ' ':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		f = append(f, c)
	}
	*buf = f
	for _, k := range r.r.keys {
		if bytes.Contains(f, []byte(k)) {
			return true
		}
	}
	// A key spelt with escapes (\u0070assword) is not seen folded: JSON
	// with escapes is read the slow way.
	return bytes.Contains(raw, []byte(`\u`))
}

var foldPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// redactor redacts the values of the keys it names.
type redactor struct{ keys []string } // folded

func newRedactor(keys []string) redactor {
	var r redactor
	for _, k := range keys {
		if f := fold(k); f != "" {
			r.keys = append(r.keys, f)
		}
	}
	return r
}

func (r redactor) secret(key string) bool {
	k := fold(key)
	for _, s := range r.keys {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// redact returns the JSON raw with the values of secret keys replaced, at
// any depth. Numbers keep their text. Input that is not JSON is an error:
// the caller keeps nothing of it rather than keep it unredacted.
func (r redactor) redact(raw []byte) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	changed := r.walk(v)
	if !changed {
		return raw, nil
	}
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// walk redacts v in place and reports whether it changed anything.
func (r redactor) walk(v any) bool {
	changed := false
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if r.secret(k) {
				x[k] = Redacted
				changed = true
				continue
			}
			if s, ok := val.(string); ok {
				if red, ok := r.inString(s); ok {
					x[k], changed = red, true
				}
				continue
			}
			changed = r.walk(val) || changed
		}
	case []any:
		for i, val := range x {
			if s, ok := val.(string); ok {
				if red, ok := r.inString(s); ok {
					x[i], changed = red, true
				}
				continue
			}
			changed = r.walk(val) || changed
		}
	}
	return changed
}

// inString redacts JSON held in a string, as MCP tools often return their
// results: a text content whose text is a JSON document. It reports false
// when s holds no JSON object or array, or nothing in it needed redacting.
func (r redactor) inString(s string) (string, bool) {
	t := strings.TrimSpace(s)
	if len(t) < 2 || (t[0] != '{' && t[0] != '[') || !json.Valid([]byte(t)) {
		return "", false
	}
	red, err := r.redact([]byte(t))
	if err != nil || string(red) == t {
		return "", false
	}
	return string(red), true
}
