package tunnel_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/record"
	"github.com/mcp-pba-tunnel/pbatunnel/tokens"
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

// BenchmarkStdioTokens is BenchmarkStdioRecording for the token counter
// every proxy runs: what counting the result's tokens, off the relay's
// path, adds to a call.
func BenchmarkStdioTokens(b *testing.B) {
	m := newMonitor()
	counter := tokens.New(m, tokens.Options{})
	if _, err := tokens.Count("warm the vocabulary"); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- counter.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	off := connectProxiedWith(b, tunnel.Observers{})
	on := connectProxiedWith(b, tunnel.Observers{Tokens: counter})
	compareRoundTrips(b,
		func() { off.send(b, echoCall); off.recv(b) },
		func() { on.send(b, echoCall); on.recv(b) })
	for deadline := time.Now().Add(5 * time.Second); counter.Stats().Counted == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond) // counted off the path, a tick later
	}
	if st := counter.Stats(); st.Dropped > 0 || st.Counted == 0 {
		b.Errorf("the counter: %+v", st)
	}
}
