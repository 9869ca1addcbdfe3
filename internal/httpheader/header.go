// Package httpheader checks HTTP header fields that users give pbatunnel
// (--header flags, alert webhook headers), so that every command refuses
// the same names and values with the same words.
package httpheader

import (
	"errors"
	"fmt"
	"strings"
)

// nameChars are the characters of an RFC 9110 token besides letters and
// digits.
const nameChars = "!#$%&'*+-.^_`|~"

// ValidName reports whether s is a header field name: an RFC 9110 token.
func ValidName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(nameChars, c) >= 0) {
			return false
		}
	}
	return true
}

// CheckName returns an error naming s when it is not a header field name.
func CheckName(s string) error {
	if !ValidName(s) {
		return fmt.Errorf("header name %q: want letters, digits and %s", s, nameChars)
	}
	return nil
}

// CheckValue reports whether v can be sent as a header value: no control
// character but tab, above all no line break, which would start a header
// of its own. The error names the header, never the value, which may be a
// secret.
func CheckValue(name, v string) error {
	if strings.ContainsFunc(v, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
		return fmt.Errorf("the value of header %s holds a line break or another control character", name)
	}
	return nil
}

// ParseField splits "Name: value" as given on a command line, checking
// both; spaces around the value are dropped.
func ParseField(s string) (name, value string, err error) {
	name, value, ok := strings.Cut(s, ":")
	if !ok {
		return "", "", errors.New("want 'Name: value'")
	}
	value = strings.TrimSpace(value)
	if err := CheckName(name); err != nil {
		return "", "", err
	}
	if err := CheckValue(name, value); err != nil {
		return "", "", err
	}
	return name, value, nil
}
