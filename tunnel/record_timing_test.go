package tunnel_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mcp-pba-tunnel/pbatunnel/record"
	"github.com/mcp-pba-tunnel/pbatunnel/tunnel"
)

// BenchmarkStdioRecording times tools/calls through the stdio tunnel in
// this process, alternately without a recording and with --record:
// overhead-p50-µs is what recording adds to a call.
func BenchmarkStdioRecording(b *testing.B) {
	rec, err := record.Open(record.Options{Path: filepath.Join(b.TempDir(), "rec.jsonl")})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rec.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	off := connectProxiedWith(b, tunnel.Observers{})
	on := connectProxiedWith(b, tunnel.Observers{Recorder: rec})
	compareRoundTrips(b,
		func() { off.send(b, echoCall); off.recv(b) },
		func() { on.send(b, echoCall); on.recv(b) })
	if st := rec.Stats(); st.Dropped > 0 || st.Failed > 0 {
		b.Errorf("the recording lost lines: %+v", st)
	}
}
