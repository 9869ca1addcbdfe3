package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/config"
)

// envNames are the variables pbatunnel reads; tests clear them so a
// developer's own settings cannot change the outcome.
var envNames = []string{"addr", "interval", "config", "data-dir", "log-format", "log-level", "auth-token", "poll-interval", "export-url", "export-file", "call-ring"}

func clearEnv(t *testing.T) {
	t.Helper()
	for _, name := range envNames {
		t.Setenv(config.EnvVar(name), "") // empty counts as unset
	}
}

func TestRun(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring; "" means stdout must be empty
		stderr string // substring; "" means stderr must be empty
	}{
		{name: "no arguments", args: nil, code: 2, stderr: "Usage:\n  pbatunnel <command>"},
		{name: "unknown command", args: []string{"bogus"}, code: 2, stderr: `pbatunnel: unknown command "bogus"`},
		{name: "help", args: []string{"help"}, code: 0, stdout: "Commands:\n  serve"},
		{name: "-h", args: []string{"-h"}, code: 0, stdout: "Commands:\n  serve"},
		{name: "--help", args: []string{"--help"}, code: 0, stdout: "Commands:\n  serve"},
		{name: "help serve", args: []string{"help", "serve"}, code: 0, stdout: "-log-format format"},
		{name: "help version", args: []string{"help", "version"}, code: 0, stdout: "Usage: pbatunnel version"},
		{name: "help unknown", args: []string{"help", "nope"}, code: 2, stderr: `unknown command "nope"`},
		{name: "help two commands", args: []string{"help", "serve", "version"}, code: 2, stderr: "at most one command"},
		{name: "version", args: []string{"version"}, code: 0,
			stdout: " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"},
		{name: "version argument", args: []string{"version", "x"}, code: 2, stderr: `unexpected argument "x"`},
		{name: "version bad flag", args: []string{"version", "-v"}, code: 2, stderr: "flag provided but not defined: -v"},
		{name: "serve -h", args: []string{"serve", "-h"}, code: 0, stderr: "Usage: pbatunnel serve"},
		{name: "serve bad flag", args: []string{"serve", "--bogus"}, code: 2,
			stderr: "flag provided but not defined: -bogus"},
		{name: "serve interval too short", args: []string{"serve", "--interval", "10ms"}, code: 2,
			stderr: `invalid value "10ms" for flag -interval: must be at least 100ms, got 10ms`},
		{name: "serve bad addr", args: []string{"serve", "--addr", "8080"}, code: 2, stderr: "want host:port"},
		{name: "serve bad log format", args: []string{"serve", "--log-format", "xml"}, code: 2, stderr: `"xml"`},
		{name: "serve positional argument", args: []string{"serve", "now"}, code: 2,
			stderr: `pbatunnel serve: unexpected argument "now"`},
		{name: "serve missing config", args: []string{"serve", "--config", "/nonexistent/pbatunnel.yaml"}, code: 2,
			stderr: "pbatunnel serve: loading config: open /nonexistent/pbatunnel.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit code = %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, &stdout, &stderr)
			}
			check := func(stream string, got *bytes.Buffer, want string) {
				if want == "" {
					if got.Len() > 0 {
						t.Errorf("%s = %q, want nothing", stream, got)
					}
					return
				}
				if !strings.Contains(got.String(), want) {
					t.Errorf("%s = %q, want it to contain %q", stream, got, want)
				}
			}
			check("stdout", &stdout, tt.stdout)
			check("stderr", &stderr, tt.stderr)
		})
	}
}

func TestServeEnvError(t *testing.T) {
	clearEnv(t)
	t.Setenv("PBATUNNEL_LOG_LEVEL", "shouting")
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"serve", "--data-dir", t.TempDir()}, &bytes.Buffer{}, &stderr)
	if code != 2 {
		t.Errorf("exit code = %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "environment variable PBATUNNEL_LOG_LEVEL") {
		t.Errorf("stderr = %q, want it to name PBATUNNEL_LOG_LEVEL", &stderr)
	}
}

func TestServeDataDirUncreatable(t *testing.T) {
	clearEnv(t)
	// A regular file where a parent directory should be.
	file := t.TempDir() + "/file"
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	code := run(t.Context(), []string{"serve", "--data-dir", file + "/sub"}, &bytes.Buffer{}, &stderr)
	if code != 1 {
		t.Errorf("exit code = %d, want 1 (a runtime failure)", code)
	}
	if !strings.Contains(stderr.String(), "pbatunnel serve: creating data dir:") {
		t.Errorf("stderr = %q", &stderr)
	}
}

func TestVersionLine(t *testing.T) {
	var stdout bytes.Buffer
	if code := run(t.Context(), []string{"version"}, &stdout, io.Discard); code != 0 {
		t.Fatalf("exit code = %d", code)
	}
	fields := strings.Fields(stdout.String())
	if len(fields) != 4 || fields[0] != "pbatunnel" || fields[1] != version() || fields[2] != runtime.Version() {
		t.Errorf("version output = %q, want \"pbatunnel <version> <go version> <os/arch>\"", &stdout)
	}
}
