package app_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mcp-pba-tunnel/pbatunnel/dashboard"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/app"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/config"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// TestAppRunsAndStopsInOrder puts a whole monitoring half together, as
// serve and proxy do, and takes it down: samples are logged, the exporter
// writes, the dashboard answers, and nothing is left running.
func TestAppRunsAndStopsInOrder(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s := config.Defaults()
	s.Addr = "127.0.0.1:0"
	s.Interval = 100 * time.Millisecond
	s.ExportFile = filepath.Join(t.TempDir(), "report.json")
	var log testenv.Buffer
	logger := slog.New(slog.NewTextHandler(&log, nil))

	a := app.New(&s, logger)
	if err := a.Configure(); err != nil {
		t.Fatal(err)
	}
	if names := a.HandlerNames(); len(names) != 1 {
		t.Errorf("handlers %v, want the log's alone by default", names)
	}
	ctx, cancel := context.WithCancel(t.Context())
	url, err := a.StartDashboard(ctx, dashboard.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx, slog.LevelInfo); err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(url + "/livez")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("/livez: %v %v", res, err)
	}
	res.Body.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(s.ExportFile)
		if bytes.Contains(b, []byte("system_overview")) && strings.Count(log.String(), "msg=sample") >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no export or samples after 20 s; log:\n%s", log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	a.Stop()
}

// TestAppCallRingFromSettings checks that the settings' call ring is the
// monitor's: it keeps that many calls and no more, and says so in its
// options, which /api/config shows.
func TestAppCallRingFromSettings(t *testing.T) {
	for _, size := range []int{1, 3, monitor.DefaultCallRing} {
		s := config.Defaults()
		s.CallRing = size
		a := app.New(&s, slog.New(slog.DiscardHandler))
		if got := a.Monitor.Options().CallRing; got != size {
			t.Errorf("ring of %d: monitor's CallRing = %d", size, got)
		}
		recorded := size + 2
		for range recorded {
			a.Monitor.RecordCall(monitor.Call{Method: "tools/list", Start: time.Now(), Duration: time.Millisecond})
		}
		kept := a.Monitor.RecentCalls(0, recorded)
		if len(kept) != size || kept[0].ID != uint64(recorded) || kept[len(kept)-1].ID != uint64(recorded-size+1) {
			t.Errorf("ring of %d after %d calls keeps %d calls, want the last %d", size, recorded, len(kept), size)
		}
	}
}
