package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// missing names no real program; the tests also empty PATH, so it cannot be
// found even if one day it exists.
const missing = "pbatunnel-testenv-no-such-program"

// recorder is a testing.TB whose Skipf and Fatalf record the message and
// return, instead of ending the goroutine, so Require can be observed.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Skipf(format string, args ...any) { r.skipped = fmt.Sprintf(format, args...) }

func (r *recorder) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

func TestRequireMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // an empty directory: nothing is found
	tests := []struct {
		ci       string
		wantSkip bool
	}{
		{ci: "", wantSkip: true},
		{ci: "false", wantSkip: true},
		{ci: "true", wantSkip: false},
		{ci: "1", wantSkip: false},
	}
	for _, tt := range tests {
		t.Run("CI="+tt.ci, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			r := &recorder{TB: t}
			if got := Require(r, missing); got != "" {
				t.Errorf("Require = %q, want empty", got)
			}
			if tt.wantSkip {
				if r.failed != "" {
					t.Errorf("failed with %q, want a skip", r.failed)
				}
				want := "SKIPPING: " + missing + " not found on PATH; run bash scripts/test.sh to install it"
				if r.skipped != want {
					t.Errorf("skip message = %q, want %q", r.skipped, want)
				}
				return
			}
			if r.skipped != "" {
				t.Errorf("skipped with %q, want a failure under CI", r.skipped)
			}
			if !strings.Contains(r.failed, missing) || !strings.Contains(r.failed, TestCommand) {
				t.Errorf("failure message %q does not name the program and %q", r.failed, TestCommand)
			}
		})
	}
}

func TestRequireFound(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake program below is a shell script")
	}
	dir := t.TempDir()
	prog := filepath.Join(dir, "fake-tool")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	t.Setenv("CI", "true")
	r := &recorder{TB: t}
	if got := Require(r, "fake-tool"); got != prog {
		t.Errorf("Require = %q, want %q", got, prog)
	}
	if r.skipped != "" || r.failed != "" {
		t.Errorf("Require skipped (%q) or failed (%q) for a program on PATH", r.skipped, r.failed)
	}
}

// TestRequireSkipsRealTest checks that with a real *testing.T the skip
// really ends the test: the line after Require must not run.
func TestRequireSkipsRealTest(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("CI", "")
	var reached bool
	t.Run("inner", func(t *testing.T) {
		Require(t, missing)
		reached = true
	})
	if reached {
		t.Error("code after Require ran for a missing program")
	}
}
