package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/dashboard"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// startDashboard serves a monitor with one recorded tool call.
func startDashboard(t *testing.T, token string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	m := monitor.New(monitor.Options{DisableSystem: true})
	m.RecordToolUsage("enhanced_memory", 45*time.Millisecond, true)
	m.Sample(ctx)
	s, err := dashboard.Start(ctx, m, dashboard.Options{Addr: "127.0.0.1:0", AuthToken: token})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = s.Wait() })
	return s.Addr()
}

func TestReport(t *testing.T) {
	addr := startDashboard(t, "")
	secured := startDashboard(t, "tok")
	out := filepath.Join(t.TempDir(), "report.json")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"text", []string{"report", "--addr", addr}, 0, "enhanced_memory", ""},
		{"json", []string{"report", "--addr", addr, "--format", "json"}, 0, `"tool_metrics"`, ""},
		{"to a file", []string{"report", "--addr", addr, "--format", "json", "--output", out}, 0, "", ""},
		{"bad format", []string{"report", "--addr", addr, "--format", "xml"}, 2, "", "want json or text"},
		{"nobody there", []string{"report", "--addr", "127.0.0.1:1"}, 1, "", "nothing answers at 127.0.0.1:1"},
		{"token needed", []string{"report", "--addr", secured}, 1, "", "requires a token"},
		{"token given", []string{"report", "--addr", secured, "--auth-token", "tok"}, 0, "enhanced_memory", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, tt.args...)
			if code != tt.code || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, stdout %.200q, stderr %q; want %d, %q, %q", code, stdout, stderr, tt.code, tt.stdout, tt.stderr)
			}
		})
	}
	b, err := os.ReadFile(out)
	if err != nil || !json.Valid(b) || !strings.Contains(string(b), "enhanced_memory") {
		t.Errorf("--output file: %v %.200s", err, b)
	}
}

func TestServeRefusesBusyPortAndOpenAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	code, _, stderr := runCmd(t, "serve", "--addr", ln.Addr().String(), "--data-dir", t.TempDir())
	if code != 1 || !strings.Contains(stderr, "port "+port+" is already in use") || !strings.Contains(stderr, "--addr") {
		t.Errorf("busy port: exit %d, %q", code, stderr)
	}
	code, _, stderr = runCmd(t, "serve", "--addr", "0.0.0.0:0", "--data-dir", t.TempDir())
	if code != 2 || !strings.Contains(stderr, "auth token is required") {
		t.Errorf("open address without token: exit %d, %q", code, stderr)
	}
}
