package httpheader_test

import (
	"strings"
	"testing"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/httpheader"
)

func TestParseField(t *testing.T) {
	tests := []struct {
		in, name, value, err string
	}{
		{in: "Authorization: Bearer x", name: "Authorization", value: "Bearer x"},
		{in: "X-A:b", name: "X-A", value: "b"},
		{in: "X-Empty:", name: "X-Empty", value: ""},
		{in: "X-Tab: a\tb", name: "X-Tab", value: "a\tb"},
		{in: "no colon", err: "want 'Name: value'"},
		{in: ": value", err: "header name"},
		{in: "Bad Name: v", err: "header name"},
		{in: "X-A: line\nX-Injected: 1", err: "line break"},
		{in: "X-A: nul\x00", err: "control character"},
	}
	for _, tt := range tests {
		name, value, err := httpheader.ParseField(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseField(%q) err = %v, want %q", tt.in, err, tt.err)
			}
			if err != nil && strings.Contains(err.Error(), "Injected") {
				t.Errorf("the error quotes the value: %v", err)
			}
			continue
		}
		if err != nil || name != tt.name || value != tt.value {
			t.Errorf("ParseField(%q) = %q, %q, %v", tt.in, name, value, err)
		}
	}
}
