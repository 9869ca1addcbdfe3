package jsonmeta

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// nextRune decodes the rune at s[i:] of a string's content that the parser
// has already checked. As encoding/json (and the SDK's decoder) does, it
// turns a byte that is not UTF-8 and a \u escape of a lone surrogate into
// U+FFFD.
func nextRune(s []byte, i int) (r rune, size int) {
	c := s[i]
	if c < utf8.RuneSelf && c != '\\' {
		return rune(c), 1
	}
	if c != '\\' {
		return utf8.DecodeRune(s[i:])
	}
	switch s[i+1] {
	case 'b':
		return '\b', 2
	case 'f':
		return '\f', 2
	case 'n':
		return '\n', 2
	case 'r':
		return '\r', 2
	case 't':
		return '\t', 2
	case 'u':
		r = hex4(s[i+2:])
		if utf16.IsSurrogate(r) {
			if i+12 <= len(s) && s[i+6] == '\\' && s[i+7] == 'u' {
				if d := utf16.DecodeRune(r, hex4(s[i+8:])); d != utf8.RuneError {
					return d, 12
				}
			}
			return utf8.RuneError, 6
		}
		return r, 6
	}
	return rune(s[i+1]), 2 // '"', '\\' or '/'
}

func hex4(s []byte) rune {
	var r rune
	for _, c := range s[:4] {
		switch {
		case c <= '9':
			c -= '0'
		case c >= 'a':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// keyEqual reports whether the string content raw, once unescaped, is key.
// plain says raw has no escapes and only ASCII, the common case, compared
// without decoding. A byte of key that is not UTF-8 stands for U+FFFD, as
// jsonstr.Append writes it and as a decoder reads it.
func keyEqual(raw []byte, plain bool, key string) bool {
	if plain {
		return string(raw) == key
	}
	j := 0
	for i := 0; i < len(raw); {
		r, n := nextRune(raw, i)
		i += n
		if j >= len(key) {
			return false
		}
		w, m := utf8.DecodeRuneInString(key[j:])
		if r != w {
			return false
		}
		j += m
	}
	return j == len(key)
}

// sameKey reports whether keys a and b name the same member once encoded.
func sameKey(a, b string) bool {
	if a == b {
		return true
	}
	if utf8.ValidString(a) && utf8.ValidString(b) {
		return false
	}
	for a != "" && b != "" {
		r, n := utf8.DecodeRuneInString(a)
		s, m := utf8.DecodeRuneInString(b)
		if r != s {
			return false
		}
		a, b = a[n:], b[m:]
	}
	return a == "" && b == ""
}

// unquote returns the value of a string's content raw.
func unquote(raw []byte, plain bool) string {
	if plain {
		return string(raw)
	}
	var sb strings.Builder
	sb.Grow(len(raw))
	for i := 0; i < len(raw); {
		r, n := nextRune(raw, i)
		i += n
		sb.WriteRune(r)
	}
	return sb.String()
}
