package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// TestServeWarnsWhenNothingIsAllowed starts serve as an MCP client may,
// in the filesystem root and without --allow-root: code_analysis allows
// nothing, and the log says so at start, naming the flag.
func TestServeWarnsWhenNothingIsAllowed(t *testing.T) {
	clearEnv(t)
	t.Setenv("PBATUNNEL_ALLOW_ROOT", "")
	dataDir := t.TempDir()
	t.Chdir("/")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stderr := newSyncBuffer()
	exited := make(chan int, 1)
	addr := testenv.Addr(testenv.FreePort(t))
	go func() {
		exited <- run(ctx, []string{"serve", "--addr", addr, "--interval", "100ms", "--data-dir", dataDir}, nil, stderr)
	}()
	deadline := time.After(waitLimit)
	for !strings.Contains(stderr.String(), "msg=starting") {
		select {
		case <-stderr.wrote:
		case code := <-exited:
			t.Fatalf("serve exited with %d before starting:\n%s", code, stderr)
		case <-deadline:
			t.Fatalf("no start line within %s:\n%s", waitLimit, stderr)
		}
	}
	cancel()
	<-exited
	var warning string
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, "level=WARN") && strings.Contains(line, `msg="code_analysis allows no directory"`) {
			warning = line
		}
	}
	if !strings.Contains(warning, "--allow-root") || !strings.Contains(warning, "filesystem root") {
		t.Errorf("no warning naming --allow-root and the reason:\n%s", stderr)
	}
	if !strings.Contains(stderr.String(), "allow_roots=[]") {
		t.Errorf("the start line does not show empty allowed roots:\n%s", stderr)
	}
}
