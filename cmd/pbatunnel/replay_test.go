package main

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/replay"
)

// session runs what a client does against the fake server, for record
// and replay alike, and returns the answers as JSON.
func replaySession(t *testing.T, ctx context.Context, cmdArgs []string, env []string) []string {
	t.Helper()
	cmd := binaryCommand(ctx, t, env, cmdArgs...)
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "replay-test", Version: "1"}, nil).Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("connecting to %v: %v", cmdArgs, err)
	}
	defer cs.Close()
	var out []string
	add := func(v any, err error) {
		if err != nil {
			out = append(out, "error: "+err.Error())
			return
		}
		b, _ := json.Marshal(v)
		out = append(out, string(b))
	}
	add(cs.ListTools(ctx, nil))
	for _, text := range []string{"hi", "there", "hi"} {
		add(cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": text}}))
	}
	add(cs.CallTool(ctx, &mcp.CallToolParams{Name: "fail", Arguments: map[string]any{}}))
	return out
}

// TestRecordThenReplay: a session recorded through the proxy, replayed
// with no server, gives the client the same answers; a call the
// recording has no answer for is an error naming the closest one.
func TestRecordThenReplay(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	path := filepath.Join(t.TempDir(), "session.jsonl")
	args, env := fakeServerArgs()
	recorded := replaySession(t, ctx, append([]string{"proxy", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--record", path, "--"}, args...),
		append(env, "GORACE=atexit_sleep_ms=0"))
	if len(recorded) != 5 || !strings.Contains(recorded[0], `"name":"echo"`) || !strings.Contains(recorded[2], `"text":"there"`) ||
		!strings.Contains(recorded[4], `"isError":true`) {
		t.Fatalf("the recorded session is not what the fake server answers: %q", recorded)
	}
	replayed := replaySession(t, ctx, []string{"replay", path}, []string{"GORACE=atexit_sleep_ms=0"})
	if strings.Join(recorded, "\n") != strings.Join(replayed, "\n") {
		t.Errorf("replayed answers differ:\nrecorded:\n%s\nreplayed:\n%s", strings.Join(recorded, "\n"), strings.Join(replayed, "\n"))
	}

	cs, err := mcp.NewClient(&mcp.Implementation{Name: "replay-test", Version: "1"}, nil).
		Connect(ctx, &mcp.CommandTransport{Command: binaryCommand(ctx, t, nil, "replay", path)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "never said"}})
	var je *jsonrpc.Error
	if !errors.As(err, &je) || je.Code != replay.CodeNotRecorded || !strings.Contains(je.Message, `"name":"echo"`) {
		t.Errorf("an unrecorded call: %v", err)
	}
}
