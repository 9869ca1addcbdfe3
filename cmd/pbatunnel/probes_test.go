package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// readiness is /readyz's answer.
type readiness struct {
	Status string `json:"status"`
	Checks []struct {
		Name  string `json:"name"`
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	} `json:"checks"`
}

// checkProbes reads /livez and /readyz at base, which must answer 200,
// and returns the names of the readiness checks that passed.
func checkProbes(t *testing.T, base string) []string {
	t.Helper()
	var live struct {
		Status string `json:"status"`
	}
	getJSON(t, base+"/livez", &live)
	if live.Status != "ok" {
		t.Errorf("/livez status %q, want ok", live.Status)
	}
	var ready readiness
	getJSON(t, base+"/readyz", &ready)
	if ready.Status != "ready" {
		t.Errorf("/readyz %+v, want ready", ready)
	}
	var passed []string
	for _, c := range ready.Checks {
		if c.OK {
			passed = append(passed, c.Name)
		}
	}
	return passed
}

// TestServeProbes checks that serve wires its readiness to the store.
func TestServeProbes(t *testing.T) {
	clearEnv(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	addr := testenv.Addr(testenv.FreePort(t))
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, []string{"serve", "--addr", addr, "--interval", "100ms", "--data-dir", t.TempDir()}, io.Discard, io.Discard)
	}()
	base := "http://" + addr
	testenv.WaitHTTP(t, base+"/livez", waitLimit)
	if got := checkProbes(t, base); len(got) != 1 || got[0] != "store" {
		t.Errorf("passed readiness checks %q, want [store]", got)
	}
	cancel()
	select {
	case code := <-exited:
		if code != 0 {
			t.Errorf("exit code = %d, want 0", code)
		}
	case <-time.After(waitLimit):
		t.Fatalf("serve did not stop within %s of its context ending", waitLimit)
	}
}

// TestProxyProbes checks that proxy wires its readiness to the upstream.
func TestProxyProbes(t *testing.T) {
	addr := testenv.Addr(testenv.FreePort(t))
	p := startProxy(t, nil, "--addr", addr, "--interval", "100ms")
	p.initialize()
	base := "http://" + addr
	testenv.WaitHTTP(t, base+"/readyz", waitLimit)
	if got := checkProbes(t, base); len(got) != 1 || got[0] != "upstream" {
		t.Errorf("passed readiness checks %q, want [upstream]", got)
	}
	p.in.Close()
	if code := p.wait(); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
}
