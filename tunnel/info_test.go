package tunnel_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
)

func TestInfoReady(t *testing.T) {
	since := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		info tunnel.Info
		want string // "" means ready
	}{
		{name: "stdio not started", info: tunnel.Info{Transport: "stdio"}, want: "has not started"},
		{name: "stdio running", info: tunnel.Info{Transport: "stdio", Up: true, Since: since}},
		{name: "stdio exited", info: tunnel.Info{Transport: "stdio", Since: since, LastExit: "exit status 3"},
			want: "the upstream MCP server is down since 2026-11-26T12:00:00Z (exit status 3)"},
		{name: "http not asked yet", info: tunnel.Info{Transport: "http"}},
		{name: "http answered", info: tunnel.Info{Transport: "http", Up: true, Since: since}},
		{name: "http unreachable", info: tunnel.Info{Transport: "http", Since: since},
			want: "the upstream MCP server has not answered since 2026-11-26T12:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.info.Ready()
			if tt.want == "" {
				if err != nil {
					t.Errorf("Ready() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Ready() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
