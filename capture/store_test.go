package capture

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRedact(t *testing.T) {
	r := newRedactor(DefaultRedactKeys)
	for _, tt := range []struct {
		in, want string
	}{
		{`{"query":"ada","limit":10}`, `{"query":"ada","limit":10}`}, // nothing to hide: kept byte for byte
		{`{"password":"hunter2","user":"ada"}`, `{"password":"[redacted]","user":"ada"}`},
		{`{"auth":{"Authorization":"Bearer abc","x":1.50}}`, `{"auth":{"Authorization":"[redacted]","x":1.50}}`},
		{`{"items":[{"apiKey":"k1"},{"X-Api-Key":"k2"},{"github_api_key":"k3"}]}`,
			`{"items":[{"apiKey":"[redacted]"},{"X-Api-Key":"[redacted]"},{"github_api_key":"[redacted]"}]}`},
		{`{"access_token":{"value":"t","expires":3}}`, `{"access_token":"[redacted]"}`}, // the whole value
		{`{"session_cookie":"c","client_secret":"s"}`, `{"client_secret":"[redacted]","session_cookie":"[redacted]"}`},
		{`{"tok\u0065n":"escaped key"}`, `{"token":"[redacted]"}`},
		{`["token","password"]`, `["token","password"]`}, // values, not keys
		{`"token"`, `"token"`},
		{`{"big":12345678901234567890,"token":"x"}`, `{"big":12345678901234567890,"token":"[redacted]"}`},
		{`{"html":"<b>&</b>","secret":1}`, `{"html":"<b>&</b>","secret":"[redacted]"}`},
		// JSON inside a string, as a tool's text content carries it.
		{`{"content":[{"type":"text","text":"{\"id\":1,\"metadata\":{\"api_key\":\"k\"}}"}]}`,
			`{"content":[{"text":"{\"id\":1,\"metadata\":{\"api_key\":\"[redacted]\"}}","type":"text"}]}`},
		{`["{\"token\":\"t\"}", "{not json", "[1,2]"]`, `["{\"token\":\"[redacted]\"}","{not json","[1,2]"]`},
	} {
		got, err := r.redact([]byte(tt.in))
		if err != nil || string(got) != tt.want {
			t.Errorf("redact(%s) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	if _, err := r.redact([]byte(`{"token":`)); err == nil {
		t.Error("truncated JSON redacted without error")
	}
	custom := newRedactor([]string{"ssn"})
	if got, _ := custom.redact([]byte(`{"SSN":"1","token":"t"}`)); string(got) != `{"SSN":"[redacted]","token":"t"}` {
		t.Errorf("custom keys: %s", got)
	}
}

func TestStoreKeepsRedactedAndBounded(t *testing.T) {
	s := New(Options{MaxBytes: 40, Budget: 1000})
	s.Keep(1, []byte(`{"q":"ada","password":"hunter2"}`), []byte(`{"content":[{"type":"text","text":"ok"}]}`))
	p, ok := s.Get(1)
	if !ok || string(p.Arguments.JSON) != `{"password":"[redacted]","q":"ada"}` || p.Arguments.Truncated {
		t.Errorf("arguments %+v", p.Arguments)
	}
	if strings.Contains(p.Arguments.Text+string(p.Arguments.JSON)+p.Result.Text+string(p.Result.JSON), "hunter2") {
		t.Error("the secret was kept")
	}
	if !p.Result.Truncated || p.Result.JSON != nil || len(p.Result.Text) > 40 || p.Result.Bytes != 41 {
		t.Errorf("result %+v: want cut to 40 bytes of 41", p.Result)
	}
	// A cut never splits a character.
	s.Keep(2, []byte(`"`+strings.Repeat("é", 40)+`"`), nil)
	if p, _ := s.Get(2); !p.Arguments.Truncated || !strings.HasPrefix(p.Arguments.Text, `"é`) || !utf8.ValidString(p.Arguments.Text) || len(p.Arguments.Text) > 40 {
		t.Errorf("cut text %q", p.Arguments.Text)
	}
	// What is not JSON is not kept at all, not even unredacted.
	s.Keep(3, []byte(`password=hunter2`), nil)
	if p, _ := s.Get(3); p.Arguments.Omitted == "" || p.Arguments.Text != "" || p.Arguments.JSON != nil {
		t.Errorf("not JSON: %+v", p.Arguments)
	}
	// Past the budget the oldest go first.
	for id := uint64(4); id < 100; id++ {
		s.Keep(id, []byte(`{"n":1}`), []byte(`{"n":2}`))
	}
	if _, ok := s.Get(1); ok {
		t.Error("the oldest payload outlived the budget")
	}
	if _, ok := s.Get(99); !ok {
		t.Error("the newest payload is gone")
	}
	if s.bytes > 1000 {
		t.Errorf("store holds %d bytes, budget 1000", s.bytes)
	}
	var nilStore *Store
	nilStore.Keep(1, []byte(`{}`), nil)
	if _, ok := nilStore.Get(1); ok || nilStore.Enabled() {
		t.Error("a nil store kept something")
	}
}
