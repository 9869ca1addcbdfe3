package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// TestProbe runs "pbatunnel probe" against answers of every kind: only a
// 2xx is healthy, and every failure says what came back or why nothing
// did.
func TestProbe(t *testing.T) {
	clearEnv(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/livez":
			_, _ = w.Write([]byte(`{"status":"ok"}`))
		case "/stale":
			http.Error(w, `{"status":"failing","error":"no sample for 95s"}`, http.StatusServiceUnavailable)
		case "/moved":
			http.Redirect(w, r, "/livez", http.StatusFound)
		case "/slow":
			<-r.Context().Done()
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	nobody := "http://" + testenv.Addr(testenv.FreePort(t)) + "/livez"

	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string // substring; "" means stderr must be empty
	}{
		{name: "healthy", args: []string{srv.URL + "/livez"}, code: 0},
		{name: "failing", args: []string{srv.URL + "/stale"}, code: 1,
			stderr: `answered 503 Service Unavailable: {"status":"failing","error":"no sample for 95s"}`},
		{name: "not found", args: []string{srv.URL + "/nope"}, code: 1, stderr: "answered 404 Not Found"},
		{name: "redirect not followed", args: []string{srv.URL + "/moved"}, code: 1, stderr: "answered 302 Found"},
		{name: "nothing listening", args: []string{nobody}, code: 1, stderr: "connection refused"},
		{name: "too slow", args: []string{"--timeout", "100ms", srv.URL + "/slow"}, code: 1, stderr: "deadline exceeded"},
		{name: "no URL", args: nil, code: 2, stderr: "want one URL to probe, got 0 arguments"},
		{name: "two URLs", args: []string{srv.URL, srv.URL}, code: 2, stderr: "got 2 arguments"},
		{name: "not http", args: []string{"ftp://127.0.0.1/livez"}, code: 2, stderr: `want an http or https URL, got "ftp://127.0.0.1/livez"`},
		{name: "no host", args: []string{"http:///livez"}, code: 2, stderr: "want an http or https URL"},
		{name: "bad timeout", args: []string{"--timeout", "0s", srv.URL}, code: 2, stderr: "--timeout: want a positive duration"},
		{name: "bad flag", args: []string{"--bogus", srv.URL}, code: 2, stderr: "flag provided but not defined: -bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, append([]string{"probe"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			if tt.stderr == "" && stderr != "" || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr = %q, want %q in it", stderr, tt.stderr)
			}
		})
	}
}

func TestHelpProbe(t *testing.T) {
	code, stdout, _ := runCmd(t, "help", "probe")
	if code != 0 || !strings.Contains(stdout, "Usage: pbatunnel probe [flags] URL") {
		t.Errorf("help probe: exit %d, stdout %q", code, stdout)
	}
	if _, stdout, _ := runCmd(t, "help"); !strings.Contains(stdout, "\n  probe ") {
		t.Errorf("help does not list probe:\n%s", stdout)
	}
}
