package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// ringCall is what the call-ring tests read of a call in /api/calls.
type ringCall struct {
	ID      uint64 `json:"id"`
	Method  string `json:"method"`
	Tool    string `json:"tool"`
	Outcome string `json:"outcome"`
}

// callRingPage is what they read of /api/calls.
type callRingPage struct {
	Calls []ringCall `json:"calls"`
}

// callRingConfig is what they read of /api/config: the size the monitor
// runs with, and the setting as given.
type callRingConfig struct {
	Monitor struct {
		CallRing int `json:"call_ring"`
	} `json:"monitor"`
	Config struct {
		CallRing int `json:"call_ring"`
	} `json:"config"`
}

// awaitNewestCall polls /api/calls until its newest call is the last
// one the test made, which last tells apart, and returns the page.
func awaitNewestCall(t *testing.T, base string, last func(ringCall) bool) callRingPage {
	t.Helper()
	for deadline := time.Now().Add(waitLimit); ; time.Sleep(20 * time.Millisecond) {
		var page callRingPage
		getJSON(t, base+"/api/calls", &page)
		if len(page.Calls) > 0 && last(page.Calls[0]) {
			return page
		}
		if time.Now().After(deadline) {
			t.Fatalf("/api/calls never had the last call first: %+v", page.Calls)
		}
	}
}

// TestServeCallRing sets the size of serve's ring of recent calls from
// each of the flag, the environment and the config file: /api/config
// shows it, and /api/calls keeps that many calls and no more.
func TestServeCallRing(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pbatunnel.yaml")
	if err := os.WriteFile(file, []byte("call_ring: 4\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		env  []string
		want int
	}{
		{name: "flag", args: []string{"--call-ring", "3"}, want: 3},
		{name: "environment", env: []string{"PBATUNNEL_CALL_RING=2"}, want: 2},
		{name: "config file", args: []string{"--config", file}, want: 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			mcpURL := startServeEnv(t, tt.env, tt.args...)
			base := mcpURL[:len(mcpURL)-len("/mcp")]
			cs, err := mcp.NewClient(&mcp.Implementation{Name: "ring-agent", Version: "1"}, nil).
				Connect(ctx, &mcp.StreamableClientTransport{Endpoint: mcpURL}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			// More calls than any ring here holds, the last a tool error
			// to know it by.
			for i := range 6 {
				args := map[string]any{"operation": "store", "content": fmt.Sprintf("note %d", i)}
				if i == 5 {
					args = map[string]any{"operation": "nope"}
				}
				if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "enhanced_memory", Arguments: args}); err != nil {
					t.Fatal(err)
				}
			}
			page := awaitNewestCall(t, base, func(c ringCall) bool { return c.Tool == "enhanced_memory" && c.Outcome == "tool_error" })
			if len(page.Calls) != tt.want {
				t.Errorf("/api/calls has %d calls, want the ring's %d: %+v", len(page.Calls), tt.want, page.Calls)
			}
			for i, c := range page.Calls {
				if c.Method != "tools/call" || c.ID != page.Calls[0].ID-uint64(i) {
					t.Errorf("kept call %d is %+v, want the newest tool calls in order", i, c)
				}
			}
			var cfg callRingConfig
			getJSON(t, base+"/api/config", &cfg)
			if cfg.Monitor.CallRing != tt.want || cfg.Config.CallRing != tt.want {
				t.Errorf("/api/config call_ring: monitor %d, config %d; want %d", cfg.Monitor.CallRing, cfg.Config.CallRing, tt.want)
			}
		})
	}
}

// TestProxyCallRing sets the proxy's ring from its config file: the
// stdio tunnel's calls are kept to that many.
func TestProxyCallRing(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pbatunnel.yaml")
	if err := os.WriteFile(file, []byte("call_ring: 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := testenv.Addr(testenv.FreePort(t))
	p := startProxy(t, nil, "--addr", addr, "--config", file)
	p.initialize()
	for i := range 3 {
		id := fmt.Sprint(i + 2)
		p.response1(`{"jsonrpc":"2.0","id":`+id+`,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`, id)
	}
	p.response1(`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"fail","arguments":{}}}`, "9")
	base := "http://" + addr
	testenv.WaitHTTP(t, base+"/api/health", waitLimit)

	page := awaitNewestCall(t, base, func(c ringCall) bool { return c.Tool == "fail" })
	if len(page.Calls) != 2 || page.Calls[1].Tool != "echo" {
		t.Errorf("/api/calls = %+v, want the ring's 2: the last echo and fail", page.Calls)
	}
	var cfg callRingConfig
	getJSON(t, base+"/api/config", &cfg)
	if cfg.Monitor.CallRing != 2 || cfg.Config.CallRing != 2 {
		t.Errorf("/api/config call_ring: monitor %d, config %d; want 2", cfg.Monitor.CallRing, cfg.Config.CallRing)
	}
	p.in.Close()
	if code := p.wait(); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
}
