package memory_test

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// TestMain fails the package if a test leaves a goroutine behind: a
// sweeper that did not stop with Close, a database never closed. It also
// removes the benchmark fixtures, which outlive single benchmarks.
func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopPostgres()
	removeFixtures()
	if code == 0 && os.Getenv(childEnv) == "" {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines left behind:", err)
			code = 1
		}
	}
	os.Exit(code)
}
