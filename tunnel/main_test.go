package tunnel_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/mcp-pba-tunnel/pbatunnel/tunnel/tunneltest"
)

// TestMain runs the fake MCP server, or a benchmark's server or tunnel, when
// the tests re-execute this binary as one, and otherwise checks that no
// test leaves a goroutine behind.
func TestMain(m *testing.M) {
	tunneltest.Main()
	serveBenchRole()
	goleak.VerifyTestMain(m)
}
