package memory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// encodeTagsMeta returns tags and metadata as the JSON text stored.
func encodeTagsMeta(tags []string, meta map[string]any) (string, string, error) {
	t, err := json.Marshal(tags)
	if err != nil {
		return "", "", err
	}
	m, err := encodeObject(meta)
	if err != nil {
		return "", "", err
	}
	return string(t), m, nil
}

// encodeObject returns m as compact JSON, {} for nil.
func encodeObject(m map[string]any) (string, error) {
	if m == nil {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", invalidf("invalid metadata: %v", err)
	}
	if len(b) > MaxMetadataBytes {
		return "", invalidf("invalid metadata: %d bytes as JSON; at most %d", len(b), MaxMetadataBytes)
	}
	// JSON carries a NUL as \u0000, which PostgreSQL's jsonb refuses:
	// neither store takes it, so that both answer alike.
	if bytes.Contains(b, []byte(`\u0000`)) {
		var v any
		_ = json.Unmarshal(b, &v) // just encoded
		if path, ok := nulAt(v, ""); ok {
			return "", invalidf("invalid metadata: %q contains a NUL character (\\u0000)", path)
		}
	}
	return string(b), nil
}

// nulAt says where decoded JSON holds a NUL character, in a key or a
// string, as a path such as "k[1].v".
func nulAt(v any, path string) (string, bool) {
	switch v := v.(type) {
	case string:
		return path, strings.IndexByte(v, 0) >= 0
	case []any:
		for i, x := range v {
			if p, ok := nulAt(x, fmt.Sprintf("%s[%d]", path, i)); ok {
				return p, true
			}
		}
	case map[string]any:
		for k, x := range v {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if strings.IndexByte(k, 0) >= 0 {
				return p, true
			}
			if p, ok := nulAt(x, p); ok {
				return p, true
			}
		}
	}
	return "", false
}

func decodeObject(s string) (map[string]any, error) {
	m := map[string]any{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	if m == nil { // the text was null
		m = map[string]any{}
	}
	return m, nil
}

// cloneObject copies a decoded JSON object deeply.
func cloneObject(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return cloneObject(v)
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = cloneValue(x)
		}
		return out
	default: // string, float64, bool, nil: immutable
		return v
	}
}

// mergePatch applies patch to target as RFC 7396 says: a null removes its
// key, an object merges into the object it names, anything else replaces.
func mergePatch(target, patch map[string]any) map[string]any {
	if target == nil {
		target = map[string]any{}
	}
	for k, v := range patch {
		switch v := v.(type) {
		case nil:
			delete(target, k)
		case map[string]any:
			t, _ := target[k].(map[string]any)
			target[k] = mergePatch(t, v)
		default:
			target[k] = v
		}
	}
	return target
}
