package httppost

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestBackoffFor(t *testing.T) {
	tests := []struct {
		base     time.Duration
		attempt  int
		min, max time.Duration
	}{
		{500 * time.Millisecond, 0, 250 * time.Millisecond, 500 * time.Millisecond},
		{500 * time.Millisecond, 1, 500 * time.Millisecond, time.Second},
		{500 * time.Millisecond, 3, 2 * time.Second, 4 * time.Second},
		{500 * time.Millisecond, 6, 15 * time.Second, 30 * time.Second}, // 32 s capped
		{500 * time.Millisecond, 1000, 15 * time.Second, 30 * time.Second},
		{time.Hour, 0, 15 * time.Second, 30 * time.Second},
		{time.Nanosecond, 0, 0, time.Nanosecond},
	}
	for _, tt := range tests {
		seen := map[time.Duration]bool{}
		for range 200 {
			got := backoffFor(tt.base, tt.attempt)
			if got < tt.min || got > tt.max {
				t.Fatalf("backoffFor(%v, %d) = %v, want within [%v, %v]", tt.base, tt.attempt, got, tt.min, tt.max)
			}
			seen[got] = true
		}
		if tt.max-tt.min > time.Millisecond && len(seen) < 2 {
			t.Errorf("backoffFor(%v, %d) always %v: no jitter", tt.base, tt.attempt, seen)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", -1},
		{"0", 0},
		{"2", 2 * time.Second},
		{"30", 30 * time.Second},
		{"3600", MaxBackoff},
		{"99999999999999999999", -1}, // overflows: unreadable
		{"-5", -1},
		{"soon", -1},
		{now.Add(10 * time.Second).Format(http.TimeFormat), 10 * time.Second},
		{now.Add(time.Hour).Format(http.TimeFormat), MaxBackoff},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.header, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"https://hooks.example.com/x", "https://hooks.example.com/x"},
		{"https://user:secret@hooks.example.com/x", "https://xxxxx:xxxxx@hooks.example.com/x"},
		{"https://token@hooks.example.com/x", "https://xxxxx@hooks.example.com/x"},
		{"http://h:8080/a?token=abc&channel=ops", "http://h:8080/a?channel=xxxxx&token=xxxxx"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := RedactURL(u); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseHTTPURL(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string // empty: valid
	}{
		{"http://127.0.0.1:9093", ""},
		{"https://hooks.example.com/services/x", ""},
		{"", "no URL"},
		{"hooks.example.com/x", "scheme must be http or https"},
		{"/relative", "scheme must be http or https"},
		{"ftp://example.com/x", "scheme must be http or https"},
		{"http:///path", "no host"},
		{"http://user:secret@h:bad port/", "malformed URL"},
		{"ftp://user:secret@h/", "scheme must be http or https"},
	}
	for _, tt := range tests {
		_, err := ParseURL(tt.in)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("ParseURL(%q): %v", tt.in, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("ParseURL(%q) = %v, want an error containing %q", tt.in, err, tt.wantErr)
		case err != nil && strings.Contains(err.Error(), "secret"):
			t.Errorf("ParseURL(%q): error %q shows the password", tt.in, err)
		}
	}
}

func TestStatusError(t *testing.T) {
	tests := []struct {
		code      int
		temporary bool
	}{
		{400, false}, {401, false}, {403, false}, {404, false}, {301, false},
		{408, true}, {429, true}, {500, true}, {502, true}, {503, true},
	}
	for _, tt := range tests {
		e := &StatusError{Code: tt.code}
		if got := e.Temporary(); got != tt.temporary {
			t.Errorf("status %d: Temporary() = %v, want %v", tt.code, got, tt.temporary)
		}
	}
	var err error = &StatusError{Code: 400, Body: "missing field"}
	if got, want := err.Error(), "status 400 Bad Request: missing field"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var se *StatusError
	if !errors.As(err, &se) {
		t.Error("errors.As cannot find the StatusError")
	}
}
