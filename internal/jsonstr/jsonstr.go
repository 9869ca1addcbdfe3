// Package jsonstr writes strings as JSON, for encoders written by hand
// where encoding/json's reflection would cost too much: the call log's
// pages, the recording's lines, the edited _meta of a forwarded request.
package jsonstr

import "unicode/utf8"

// An Escaping says which characters besides those JSON requires are
// escaped.
type Escaping uint8

const (
	// AsEncodingJSON escapes as encoding/json does by default: also <, >
	// and &, and U+2028 and U+2029, so that the text is safe in HTML and
	// JavaScript.
	AsEncodingJSON Escaping = iota
	// Minimal escapes only what JSON requires, as the MCP Go SDK's
	// encoder does.
	Minimal
)

const hexDigits = "0123456789abcdef"

// Append appends s as a JSON string. Bytes that are not UTF-8 become
// U+FFFD, as encoding/json writes them, so that every decoder reads the
// same value.
func Append(dst []byte, s string, e Escaping) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if !needsEscape(c, e) {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case e == AsEncodingJSON && (r == '\u2028' || r == '\u2029'):
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// Len is len(Append(nil, s, e)), without building it.
func Len(s string, e Escaping) int {
	n := 2
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case !needsEscape(c, e):
				n++
			case c == '"', c == '\\', c == '\n', c == '\r', c == '\t':
				n += 2
			default:
				n += 6
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			n += 6
		case e == AsEncodingJSON && (r == '\u2028' || r == '\u2029'):
			n += 6
		default:
			n += size
		}
		i += size
	}
	return n
}

// needsEscape reports whether the ASCII byte c is written escaped.
func needsEscape(c byte, e Escaping) bool {
	switch {
	case c < 0x20, c == '"', c == '\\':
		return true
	case e == AsEncodingJSON:
		return c == '<' || c == '>' || c == '&'
	}
	return false
}
