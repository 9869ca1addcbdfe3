package record_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/record"
)

func readLines(t *testing.T, path string) []record.Line {
	t.Helper()
	lines, skipped, err := record.ReadFile(path)
	if err != nil || skipped > 0 {
		t.Fatalf("reading the recording: %v, %d lines not read", err, skipped)
	}
	return lines
}

// run records with r until fn returns, then stops the writer.
func run(t *testing.T, r *record.Recorder, fn func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	fn()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestRecord: each message is a line with its time, direction and
// session; secrets are redacted; what is not JSON is left out, with its
// size; the caller's buffer is its own again at once.
func TestRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.jsonl")
	r, err := record.Open(record.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	run(t, r, func() {
		buf := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"login","arguments":{"user":"al","password":"hunter2"}}}`)
		r.Record(at, record.ToServer, "S1", buf)
		copy(buf, "garbage") // the caller reuses its buffer
		r.Record(at.Add(time.Millisecond), record.ToClient, "S1", []byte(`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"{\"token\":\"abc\"}"}]}}`))
		r.Record(at, record.ToServer, "", []byte(`not json at all`))
		r.Omit(at, record.ToClient, "", "longer than the proxy holds", 20<<20)
	})
	lines := readLines(t, path)
	if len(lines) != 4 {
		t.Fatalf("%d lines: %+v", len(lines), lines)
	}
	if l := lines[0]; l.Dir != record.ToServer || l.Session != "S1" || !l.Time.Equal(at) ||
		strings.Contains(string(l.Message), "hunter2") || !strings.Contains(string(l.Message), `"user":"al"`) {
		t.Errorf("first line %+v %s", l, l.Message)
	}
	if l := lines[1]; strings.Contains(string(l.Message), "abc") || l.Dir != record.ToClient {
		t.Errorf("the token inside the result's text was kept: %s", l.Message)
	}
	if l := lines[2]; l.Message != nil || l.Omitted != "not JSON" || l.Bytes != 15 {
		t.Errorf("invalid line recorded as %+v", l)
	}
	if l := lines[3]; l.Omitted == "" || l.Bytes != 20<<20 {
		t.Errorf("omitted line %+v", l)
	}
	if st := r.Stats(); st.Written != 4 || st.Dropped != 0 || st.Failed != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestRotate: past MaxBytes the file moves to .1 and a new one starts;
// neither grows past the bound, and no line is lost or split.
func TestRotate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.jsonl")
	r, err := record.Open(record.Options{Path: path, MaxBytes: 2000})
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	run(t, r, func() {
		for i := range n {
			r.Record(time.Now(), record.ToServer, "", fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%d,"method":"ping"}`, i))
		}
	})
	for _, p := range []string{path, path + ".1"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > 2000 {
			t.Errorf("%s is %d bytes, past the bound", p, st.Size())
		}
	}
	last := readLines(t, path)
	var lastID struct{ ID int }
	_ = json.Unmarshal(last[len(last)-1].Message, &lastID)
	if lastID.ID != n-1 || r.Stats().Rotations == 0 {
		t.Errorf("last id %d, %d rotations", lastID.ID, r.Stats().Rotations)
	}
}

// TestFullQueueDrops: messages past a full queue are dropped and
// counted, never waited for.
func TestFullQueueDrops(t *testing.T) {
	r, err := record.Open(record.Options{Path: filepath.Join(t.TempDir(), "rec.jsonl"), Queue: 2})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 { // Run is not running: nothing leaves the queue
		r.Record(time.Now(), record.ToServer, "", []byte(`{}`))
	}
	if st := r.Stats(); st.Dropped != 3 {
		t.Errorf("stats %+v, want 3 dropped", st)
	}
	run(t, r, func() {})
	if st := r.Stats(); st.Written != 2 {
		t.Errorf("stats %+v, want the 2 queued written at the end", st)
	}
}

func TestOpenError(t *testing.T) {
	if _, err := record.Open(record.Options{Path: filepath.Join(t.TempDir(), "no", "such", "dir", "rec.jsonl")}); err == nil {
		t.Error("a file in a missing directory opened")
	}
}

// TestDiskFull: writes that fail (here to /dev/full) are counted, and
// the writer goes on rather than stop or panic.
func TestDiskFull(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full on this system")
	}
	r, err := record.Open(record.Options{Path: "/dev/full"})
	if err != nil {
		t.Fatal(err)
	}
	run(t, r, func() {
		for range 3 {
			r.Record(time.Now(), record.ToServer, "", []byte(`{"jsonrpc":"2.0","method":"x"}`))
		}
	})
	if st := r.Stats(); st.Failed == 0 {
		t.Errorf("stats %+v: the failed writes were not counted", st)
	}
}
