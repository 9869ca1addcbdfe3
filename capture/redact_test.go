package capture

import "testing"

// TestMayHold: the quick scan never misses a key Redact would redact.
func TestMayHold(t *testing.T) {
	r := NewRedactor(nil)
	for _, tt := range []struct {
		raw  string
		want bool
	}{
		{`{"jsonrpc":"2.0","id":1,"method":"ping"}`, false},
		{`{"params":{"arguments":{"text":"hello"}}}`, false},
		{`{"params":{"arguments":{"Password":"x"}}}`, true},
		{`{"headers":{"X-Api-Key":"x"}}`, true},
		{`{"apiKey":"x"}`, true},
		{`{"text":"{\"access_token\":\"x\"}"}`, true},
		{`{"pass\u0077ord":"x"}`, true}, // escapes: read the slow way
	} {
		if got := r.MayHold([]byte(tt.raw)); got != tt.want {
			t.Errorf("%s: MayHold %v, want %v", tt.raw, got, tt.want)
		}
		if !tt.want {
			if red, err := r.Redact([]byte(tt.raw)); err != nil || string(red) != tt.raw {
				t.Errorf("%s: MayHold said no, Redact changed it to %s", tt.raw, red)
			}
		}
	}
}
