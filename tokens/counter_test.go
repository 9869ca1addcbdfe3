package tokens

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// TestCountKnownStrings checks the o200k_base counts of strings whose
// tokens are known.
func TestCountKnownStrings(t *testing.T) {
	for _, tt := range []struct {
		text string
		want int
	}{
		{"", 0},
		{"hello world", 2},   // "hello", " world"
		{"Hello, world!", 4}, // "Hello", ",", " world", "!"
		{"Hello, world! This is a test of the tokenizer.", 12},
		{strings.Repeat(" hello", 1000), 1000}, // one token each
	} {
		got, err := Count(tt.text)
		if err != nil || got != tt.want {
			t.Errorf("Count(%.40q) = %d, %v; want %d", tt.text, got, err, tt.want)
		}
	}
}

func TestResultText(t *testing.T) {
	for _, tt := range []struct {
		name string
		res  *mcp.CallToolResult
		want string
	}{
		{"text", &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "a"}, &mcp.TextContent{Text: "b"}}}, "ab"},
		{"embedded text resource", &mcp.CallToolResult{Content: []mcp.Content{
			&mcp.TextContent{Text: "see: "},
			&mcp.EmbeddedResource{Resource: &mcp.ResourceContents{URI: "file:///x", Text: "body"}},
		}}, "see: body"},
		{"structured only", &mcp.CallToolResult{StructuredContent: map[string]any{"n": 1}}, `{"n":1}`},
		{"text wins over structured", &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "t"}}, StructuredContent: map[string]any{"n": 1}}, "t"},
		{"image only", &mcp.CallToolResult{Content: []mcp.Content{&mcp.ImageContent{Data: []byte{1}, MIMEType: "image/png"}}}, ""},
	} {
		got, err := resultText(tt.res)
		if err != nil || got != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.name, got, err, tt.want)
		}
		// The same result as it travels, read by the tunnel's path.
		line, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "result": tt.res})
		raw, err := rawText(line)
		if err != nil || raw != tt.want {
			t.Errorf("%s, raw: %q, %v; want %q", tt.name, raw, err, tt.want)
		}
	}
	if _, err := rawText([]byte(`{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"x"}}`)); err != errNoResult {
		t.Errorf("error response: %v, want errNoResult", err)
	}
	if _, err := rawText([]byte(`{"result":`)); err == nil {
		t.Error("truncated JSON read without error")
	}
}

// TestCounterJoinsTheCall offers results as the server and the tunnel do:
// the counts join the call in the ring and the tool's figures;
// a full queue and an oversized text are counted, not waited for.
func TestCounterJoinsTheCall(t *testing.T) {
	m := monitor.New(monitor.Options{DisableSystem: true})
	c := New(m, Options{Queue: 2, MaxText: 64})
	rec := func(tool string, bytes int64) uint64 {
		return m.RecordCall(monitor.Call{Method: monitor.MethodToolsCall, Tool: tool, Duration: time.Millisecond, ResponseBytes: bytes})
	}
	res := &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "hello world"}}}
	id1 := rec("search", 0)
	if !c.OfferResult(id1, "search", res) {
		t.Fatal("offer refused with an empty queue")
	}
	line := []byte(`{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"Hello, world!"}]}}`)
	id2 := rec("search", int64(len(line)))
	if !c.OfferRaw(id2, "search", line) {
		t.Fatal("raw offer refused")
	}
	copy(line, "garbage") // the caller reuses its buffer at once
	if c.OfferResult(rec("search", 0), "search", res) || c.OfferRaw(rec("search", 0), "search", line) {
		t.Error("offers accepted beyond the queue")
	}
	c.Drain()
	calls := m.RecentCalls(0, 10)
	byID := map[uint64]monitor.Call{}
	for _, cl := range calls {
		byID[cl.ID] = cl
	}
	// A typed result's size is the transport's to measure, not the
	// counter's to guess from an encoding of its own.
	if got := byID[id1]; got.ResponseTokens != 2 || got.ResponseBytes != 0 {
		t.Errorf("typed result: tokens %d bytes %d; want 2 and 0", got.ResponseTokens, got.ResponseBytes)
	}
	if got := byID[id2]; got.ResponseTokens != 4 || got.ResponseBytes != int64(len(line)) {
		t.Errorf("raw result: tokens %d bytes %d; want 4 and %d", got.ResponseTokens, got.ResponseBytes, len(line))
	}
	big := &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: strings.Repeat("x", 65)}}}
	c.OfferResult(rec("search", 0), "search", big)
	c.Drain()
	st := c.Stats()
	if st.Counted != 2 || st.Tokens != 6 || st.Dropped != 2 || st.TooLarge != 1 {
		t.Errorf("stats %+v", st)
	}
	s := m.Sample(context.Background())
	r := s.Tools["search"].Responses
	if !r.TokensAvg.OK || r.TokensAvg.Value != 3 || r.TokensCounted != 2 || !r.TokensP95.OK || r.TokensP95.Value != 4 {
		t.Errorf("tool figures %+v", r)
	}
	// Bytes: the raw line at RecordCall, the typed result's from the
	// counter, and the oversized one's, sized though not counted.
	if !r.BytesAvg.OK {
		t.Errorf("no bytes average: %+v", r.BytesAvg)
	}
	hs := m.LiveTokenHistograms()
	if len(hs) != 1 || hs[0].Tool != "search" || hs[0].Sum != 6 || hs[0].Counts[0] != 2 {
		t.Errorf("token histograms %+v", hs)
	}
}

func TestRunEndsWithContext(t *testing.T) {
	c := New(monitor.New(monitor.Options{DisableSystem: true}), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not end")
	}
}
