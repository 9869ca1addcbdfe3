package replay_test

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/record"
	"github.com/mcp-pba-tunnel/pbatunnel/replay"
)

// sh is a server written in the shell: it answers every line with answer.
func sh(answer string) *exec.Cmd {
	return exec.Command("sh", "-c", `while read -r line; do printf '%s\n' '`+answer+`'; done`)
}

// TestAgainstComparesAsRecorded: a live answer holding a secret is the
// recorded one, which holds it redacted; a request whose params the
// recording redacted is not sent, and says so.
func TestAgainstComparesAsRecorded(t *testing.T) {
	rec, err := replay.Load(writeRecording(t, []record.Line{
		line(record.ToServer, "", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}`),
		line(record.ToClient, "", `{"jsonrpc":"2.0","id":1,"result":{"user":"al","token":"[redacted]"}}`),
		line(record.ToServer, "", `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"login","arguments":{"password":"[redacted]"}}}`),
		line(record.ToClient, "", `{"jsonrpc":"2.0","id":2,"result":{}}`),
	}))
	if err != nil {
		t.Fatal(err)
	}
	diffs, err := replay.Against(context.Background(), rec, sh(`{"jsonrpc":"2.0","id":1,"result":{"token":"abc","user":"al"}}`), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != 1 || diffs[0].RequestInOrdinal != 2 || diffs[0].Skipped == "" {
		t.Errorf("differences %+v, want only the login, not sent", diffs)
	}
}

// TestAgainstAGoneServer: once the server's output has ended, the
// requests left fail at once, not each after the timeout.
func TestAgainstAGoneServer(t *testing.T) {
	var lines []record.Line
	for _, id := range []string{"1", "2", "3"} {
		lines = append(lines,
			line(record.ToServer, "", `{"jsonrpc":"2.0","id":`+id+`,"method":"ping"}`),
			line(record.ToClient, "", `{"jsonrpc":"2.0","id":`+id+`,"result":{}}`))
	}
	rec, err := replay.Load(writeRecording(t, lines))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // far below 3 timeouts
	defer cancel()
	diffs, err := replay.Against(ctx, rec, exec.Command("sh", "-c", "read -r line"), time.Hour)
	if ctx.Err() != nil {
		t.Fatal("the requests waited their timeout")
	}
	if err == nil && len(diffs) != 3 {
		t.Errorf("differences %+v, want 3 requests unanswered", diffs)
	}
}
