package memory

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Validation of single fields. Messages name the field as the MCP tool's
// JSON does, say what was given when it is short enough to quote, and say
// what is allowed.

func checkContent(c string) error {
	switch {
	case strings.TrimSpace(c) == "":
		return invalidf("invalid content: required, and not only white space")
	case len(c) > MaxContentBytes:
		return invalidf("invalid content: %d bytes; at most %d", len(c), MaxContentBytes)
	case !utf8.ValidString(c):
		return invalidf("invalid content: not valid UTF-8")
	case strings.IndexByte(c, 0) >= 0:
		return invalidf("invalid content: contains a NUL byte")
	}
	return nil
}

// checkID checks an id given to look something up. An id with a NUL
// byte, or not valid UTF-8, is no store's: PostgreSQL cannot even take it
// as text, so both stores refuse it here rather than look it up.
func checkID(field, id string) error {
	switch {
	case id == "":
		return invalidf("invalid %s: required", field)
	case len(id) > MaxIDBytes:
		return invalidf("invalid %s: %d bytes; at most %d", field, len(id), MaxIDBytes)
	case !utf8.ValidString(id):
		return invalidf("invalid %s %q: not valid UTF-8", field, id)
	case strings.IndexByte(id, 0) >= 0:
		return invalidf("invalid %s %q: contains a NUL byte", field, id)
	}
	return nil
}

// checkScopeID checks a conversation or session id; empty means none.
func checkScopeID(field, v string) error {
	if v == "" {
		return nil
	}
	return checkLabel(field, v, MaxScopeIDBytes)
}

// checkLabel checks a short single-line string: a tag, a type, an id.
func checkLabel(field, v string, maxBytes int) error {
	switch {
	case len(v) > maxBytes:
		return invalidf("invalid %s: %d bytes; at most %d", field, len(v), maxBytes)
	case !utf8.ValidString(v):
		return invalidf("invalid %s %q: not valid UTF-8", field, v)
	case strings.IndexFunc(v, isControl) >= 0:
		return invalidf("invalid %s %q: contains a control character", field, v)
	}
	return nil
}

// checkUnit checks a value that must lie in [0, 1].
func checkUnit(field string, v float64) error {
	if !(v >= 0 && v <= 1) { // also rejects NaN
		return invalidf("invalid %s %v: must be between 0 and 1", field, v)
	}
	return nil
}

func checkTTL(ttl time.Duration) error {
	switch {
	case ttl < 0:
		return invalidf("invalid ttl %v: must not be negative (0 means never expire)", ttl)
	case ttl > MaxTTL:
		return invalidf("invalid ttl %v: at most %v (100 years); use 0 to never expire", ttl, MaxTTL)
	case ttl > 0 && ttl < time.Millisecond:
		return invalidf("invalid ttl %v: at least 1ms", ttl)
	}
	return nil
}

// normalizeTags trims tags and drops repeats, keeping the first
// occurrence's place.
func normalizeTags(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, t := range in {
		t = strings.TrimSpace(t)
		if t == "" {
			return nil, invalidf("invalid tags: a tag is empty")
		}
		if err := checkLabel("tag", t, MaxTagBytes); err != nil {
			return nil, err
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	if len(out) > MaxTags {
		return nil, invalidf("invalid tags: %d tags; at most %d", len(out), MaxTags)
	}
	return out, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }
