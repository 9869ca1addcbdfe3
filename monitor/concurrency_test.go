package monitor

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestConcurrentRecordingAndReading records from many goroutines while
// others sample and read reports; run under -race. Nothing recorded is lost.
func TestConcurrentRecordingAndReading(t *testing.T) {
	m, clock := newTestMonitor(Options{})
	const writers, perWriter = 16, 2000
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tool := fmt.Sprintf("tool_%d", i%4)
			for j := range perWriter {
				m.RecordToolUsage(tool, time.Duration(j)*time.Microsecond, j%10 != 0)
				m.ObserveQuery(time.Microsecond, nil)
				m.RecordCacheLookup(j%2 == 0)
				m.Counter("c").Inc()
			}
		}()
	}
	var readers sync.WaitGroup
	for range 3 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				clock.Advance(time.Second)
				m.Sample(context.Background())
				_ = m.Live(context.Background())
				_ = m.History()
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	s := m.Sample(context.Background())
	if s.Calls != writers*perWriter || s.Errors != writers*perWriter/10 {
		t.Errorf("calls %d errors %d, want %d and %d", s.Calls, s.Errors, writers*perWriter, writers*perWriter/10)
	}
	if s.Queries.Count != writers*perWriter || s.CacheHits != writers*perWriter/2 || s.Custom.Counters["c"] != writers*perWriter {
		t.Errorf("queries %d hits %d counter %v", s.Queries.Count, s.CacheHits, s.Custom.Counters["c"])
	}
	if s.Tools["tool_0"].SinceStart.Count != 4*perWriter {
		t.Errorf("histogram of tool_0 holds %d, want %d", s.Tools["tool_0"].SinceStart.Count, 4*perWriter)
	}
}

func TestStartStopAndSubscribe(t *testing.T) {
	defer goleak.VerifyNone(t)
	m := New(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	subCtx, subCancel := context.WithCancel(ctx)
	ch := m.Subscribe(subCtx, 4)
	if err := m.Start(ctx, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ctx, time.Second); err != ErrStarted {
		t.Errorf("second Start: %v, want ErrStarted", err)
	}
	if m.Latest() == nil {
		t.Fatal("Start took no first sample")
	}
	// The first sample is taken by Start before it returns; wait for two
	// more from the loop.
	var last *Snapshot
	for last == nil || last.Seq < 3 {
		select {
		case last = <-ch:
		case <-time.After(30 * time.Second):
			t.Fatal("no samples from the running monitor")
		}
	}
	if !last.CPUPercent().OK || !last.Overhead.SampleCPU.OK {
		t.Errorf("running monitor: cpu %v, sample cpu %v", last.CPUPercent(), last.Overhead.SampleCPU)
	}
	subCancel()
	for range ch { // closed once the subscription's context ends
	}
	m.Stop()
	if m.Done() != nil {
		t.Error("Done() non-nil after Stop")
	}
	// A stopped monitor starts again.
	if err := m.Start(ctx, time.Hour); err != nil {
		t.Fatalf("restart: %v", err)
	}
	cancel()
	m.Stop()
}
