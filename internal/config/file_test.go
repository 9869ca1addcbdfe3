package config

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// writeConfig writes content to a fresh config.yaml and returns its path.
func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func ptr[T any](v T) *T { return &v }

func dur(d time.Duration) *Duration { return ptr(Duration(d)) }

func TestLoadValid(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    File
	}{
		{name: "empty file", content: "", want: File{}},
		{name: "comment only", content: "# nothing set yet\n", want: File{}},
		{
			name: "every key",
			content: `
addr: 127.0.0.1:9090
data_dir: /var/lib/pbatunnel
interval: 10s
retention:
  max_samples: 100
  max_age: 2h
recent_window: 1m
trend_window: 30m
call_ring: 20000
`,
			want: File{
				Addr:         "127.0.0.1:9090",
				DataDir:      "/var/lib/pbatunnel",
				Interval:     dur(10 * time.Second),
				Retention:    Retention{MaxSamples: ptr(100), MaxAge: dur(2 * time.Hour)},
				RecentWindow: dur(time.Minute),
				TrendWindow:  dur(30 * time.Minute),
				CallRing:     ptr(20000),
			},
		},
		{name: "minimum interval", content: "interval: 100ms\n", want: File{Interval: dur(100 * time.Millisecond)}},
		{name: "empty host means every interface", content: "addr: ':0'\n", want: File{Addr: ":0"}},
		{name: "null value leaves field unset", content: "interval:\nretention:\n", want: File{}},
		{
			name:    "merge key",
			content: "retention:\n  <<: {max_samples: 5}\n  max_age: 1h\n",
			want:    File{Retention: Retention{MaxSamples: ptr(5), MaxAge: dur(time.Hour)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(writeConfig(t, tt.content))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if diff := cmp.Diff(&tt.want, got); diff != "" {
				t.Errorf("Load mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadInvalid(t *testing.T) {
	tests := []struct {
		name    string
		content string
		// want are substrings the error must contain, after the file path
		// and line, which every error is checked for.
		line int
		want []string
	}{
		{name: "unknown top-level key", content: "addr: 127.0.0.1:8080\nlisten: :80\n", line: 2,
			want: []string{"listen: unknown key"}},
		{name: "unknown nested key", content: "retention:\n  max_sample: 10\n", line: 2,
			want: []string{"retention.max_sample: unknown key"}},
		{name: "unknown key inside merge", content: "retention:\n  <<: {max_ages: 1h}\n", line: 2,
			want: []string{"retention.max_ages: unknown key"}},
		{name: "duplicate key", content: "interval: 1s\ninterval: 2s\n", line: 2,
			want: []string{"interval: duplicate key (first set on line 1)"}},
		{name: "bad duration", content: "interval: banana\n", line: 1,
			want: []string{`interval: invalid duration "banana"`}},
		{name: "duration without unit", content: "trend_window: 30\n", line: 1,
			want: []string{`trend_window: invalid duration "30"`}},
		{name: "duration as a list", content: "recent_window: [1m]\n", line: 1,
			want: []string{"recent_window: want a duration"}},
		{name: "negative duration", content: "retention:\n  max_age: -1h\n", line: 2,
			want: []string{"retention.max_age: must be positive, got -1h0m0s"}},
		{name: "zero window", content: "recent_window: 0s\n", line: 1,
			want: []string{"recent_window: must be positive"}},
		{name: "interval too short", content: "interval: 50ms\n", line: 1,
			want: []string{"interval: must be at least 100ms, got 50ms"}},
		{name: "negative interval", content: "interval: -30s\n", line: 1,
			want: []string{"interval: must be at least 100ms"}},
		{name: "zero max_samples", content: "retention:\n  max_samples: 0\n", line: 2,
			want: []string{"retention.max_samples: must be at least 1, got 0"}},
		{name: "max_samples not a number", content: "retention:\n  max_samples: lots\n", line: 2,
			want: []string{"retention.max_samples: cannot unmarshal !!str `lots` into int"}},
		{name: "retention not a mapping", content: "retention: 5\n", line: 1,
			want: []string{"retention: cannot unmarshal"}},
		{name: "addr without port", content: "addr: localhost\n", line: 1,
			want: []string{"addr: want host:port"}},
		{name: "addr with bad port", content: "addr: localhost:http\n", line: 1,
			want: []string{`addr: port "http"`}},
		{name: "not a mapping", content: "- addr\n", line: 1,
			want: []string{"cannot unmarshal !!seq"}},
		{name: "syntax error", content: "addr: [unclosed\n", line: 0,
			want: []string{"yaml:"}},
		{name: "every problem reported", content: "interval: 1ms\nbogus: 1\n", line: 1,
			want: []string{"interval: must be at least", ":2: bogus: unknown key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.content)
			f, err := Load(path)
			if err == nil {
				t.Fatalf("Load = %+v, want an error", f)
			}
			msg := err.Error()
			prefix := path + ":"
			if tt.line > 0 {
				prefix = path + ":" + strconv.Itoa(tt.line) + ": "
			}
			if !strings.HasPrefix(msg, prefix) {
				t.Errorf("error %q does not start with %q", msg, prefix)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

// TestLoadErrorText pins the exact wording users see for the two mistakes
// they make most: a misspelt key and a duration without its unit.
func TestLoadErrorText(t *testing.T) {
	path := writeConfig(t, "interval: 30s\nretention:\n  max_sampels: 10\n")
	_, err := Load(path)
	if got, want := errText(err), path+`:3: retention.max_sampels: unknown key`; got != want {
		t.Errorf("unknown key:\n got %s\nwant %s", got, want)
	}
	if !errors.Is(err, ErrUnknownKey) {
		t.Errorf("errors.Is(%v, ErrUnknownKey) = false", err)
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Line != 3 || fe.Key != "retention.max_sampels" {
		t.Errorf("FieldError = %+v, want line 3 key retention.max_sampels", fe)
	}

	path = writeConfig(t, "addr: 127.0.0.1:8080\ninterval: 30\n")
	_, err = Load(path)
	want := path + `:2: interval: invalid duration "30" (want a duration such as 30s or 5m)`
	if got := errText(err); got != want {
		t.Errorf("bad duration:\n got %s\nwant %s", got, want)
	}
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.yaml")
	_, err := Load(path)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load(missing) = %v, want an error wrapping os.ErrNotExist", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file", err)
	}
}

func TestLoadRelativeDataDir(t *testing.T) {
	path := writeConfig(t, "data_dir: state\n")
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(filepath.Dir(path), "state"); f.DataDir != want {
		t.Errorf("DataDir = %q, want %q (relative to the config file)", f.DataDir, want)
	}
}

func TestValidateWithoutFile(t *testing.T) {
	f := &File{Interval: dur(time.Millisecond)}
	err := f.Validate()
	if got, want := errText(err), "interval: must be at least 100ms, got 1ms"; got != want {
		t.Errorf("Validate = %s, want %s", got, want)
	}
	if err := (&File{}).Validate(); err != nil {
		t.Errorf("Validate(empty) = %v, want nil", err)
	}
}
