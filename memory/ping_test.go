package memory_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mcp-pba-tunnel/pbatunnel/memory"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// TestPing checks the readiness read: it answers on an open store without
// counting as a query, and fails after Close or once its context has ended.
func TestPing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, impl backend) {
		m := monitor.New(monitor.Options{DisableSystem: true})
		s := impl.open(t, memory.Options{Monitor: m})
		before := m.Sample(bg).Queries.Count // opening the store queries it
		for range 3 {
			if err := s.Ping(bg); err != nil {
				t.Fatalf("Ping on an open store: %v", err)
			}
		}
		if n := m.Sample(bg).Queries.Count - before; n != 0 {
			t.Errorf("pings counted as %d store queries, want none", n)
		}

		cancelled, cancel := context.WithCancel(bg)
		cancel()
		if err := s.Ping(cancelled); !errors.Is(err, context.Canceled) {
			t.Errorf("Ping with an ended context: %v, want context.Canceled", err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Ping(bg); !errors.Is(err, memory.ErrClosed) {
			t.Errorf("Ping after Close: %v, want ErrClosed", err)
		}
	})
}
