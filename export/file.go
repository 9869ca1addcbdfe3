package export

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
	"github.com/mcp-pba-tunnel/pbatunnel/report"
)

// A File rewrites a JSON file with the report after every sample. Readers
// never see a half-written file: each report goes to a temporary file in
// the same directory, is synced, and is renamed over the old one.
type File struct {
	Path string
	// OnError is told about each failed write; nil ignores them (they are
	// still counted in Stats).
	OnError func(error)

	stats counters
}

// Run writes the report on every sample until ctx ends, then returns nil.
func (f *File) Run(ctx context.Context, m *monitor.Monitor) error {
	if f.Path == "" {
		return fmt.Errorf("export file: no path")
	}
	// Only the newest report matters for a file: a buffer of one drops the
	// older ones if a write is slow.
	return f.run(m, m.Subscribe(ctx, 1))
}

func (f *File) run(m *monitor.Monitor, snaps <-chan *monitor.Snapshot) error {
	for s := range snaps {
		f.stats.seen(s.Seq)
		if err := f.write(report.For(m, s)); err != nil {
			f.stats.fail(err)
			if f.OnError != nil {
				f.OnError(err)
			}
			continue
		}
		f.stats.sent.Add(1)
	}
	return nil
}

func (f *File) write(r *report.Report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("export file: encoding report: %w", err)
	}
	return WriteFileAtomic(f.Path, append(b, '\n'), 0o644)
}

// Stats says how the export is doing.
func (f *File) Stats() Stats { return f.stats.snapshot() }

// WriteFileAtomic writes data to path so that a reader sees either the old
// content or the new, never a mix: temporary file, sync, rename.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// Stats count an exporter's work.
type Stats struct {
	Sent    uint64 `json:"sent"`
	Failed  uint64 `json:"failed"`
	Dropped uint64 `json:"dropped"` // reports skipped because the exporter fell behind
	// LastError is the most recent failure.
	LastError string `json:"last_error,omitempty"`
}

type counters struct {
	sent, failed, dropped atomic.Uint64
	lastSeq               atomic.Uint64
	lastErr               atomic.Pointer[string]
}

// seen notes a snapshot's sequence number: a gap is reports the
// subscription dropped because the exporter was behind.
func (c *counters) seen(seq uint64) {
	if last := c.lastSeq.Swap(seq); last != 0 && seq > last+1 {
		c.dropped.Add(seq - last - 1)
	}
}

func (c *counters) fail(err error) {
	c.failed.Add(1)
	msg := err.Error()
	c.lastErr.Store(&msg)
}

func (c *counters) snapshot() Stats {
	s := Stats{Sent: c.sent.Load(), Failed: c.failed.Load(), Dropped: c.dropped.Load()}
	if p := c.lastErr.Load(); p != nil {
		s.LastError = *p
	}
	return s
}
