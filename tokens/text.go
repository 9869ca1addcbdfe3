package tokens

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// resultText returns the text a model would be shown of a tools/call
// result: its text content, or else its structured content as JSON.
func resultText(res *mcp.CallToolResult) (string, error) {
	var b strings.Builder
	for _, c := range res.Content {
		switch c := c.(type) {
		case *mcp.TextContent:
			b.WriteString(c.Text)
		case *mcp.EmbeddedResource:
			if c.Resource != nil {
				b.WriteString(c.Resource.Text)
			}
		}
	}
	if b.Len() > 0 || res.StructuredContent == nil {
		return b.String(), nil
	}
	j, err := json.Marshal(res.StructuredContent)
	if err != nil {
		return "", err
	}
	return string(j), nil
}

// rawResponse is the part of a JSON-RPC response to tools/call that holds
// text, as it passes through the tunnel.
type rawResponse struct {
	Result *struct {
		Content []struct {
			Type     string `json:"type"`
			Text     string `json:"text"`
			Resource *struct {
				Text string `json:"text"`
			} `json:"resource"`
		} `json:"content"`
		StructuredContent json.RawMessage `json:"structuredContent"`
	} `json:"result"`
}

// errNoResult marks a response without a result (an error response).
var errNoResult = errors.New("no result")

// rawText is resultText for a response message as raw JSON.
func rawText(line []byte) (string, error) {
	var r rawResponse
	if err := json.Unmarshal(line, &r); err != nil {
		return "", err
	}
	if r.Result == nil {
		return "", errNoResult
	}
	var b strings.Builder
	for _, c := range r.Result.Content {
		switch {
		case c.Type == "text":
			b.WriteString(c.Text)
		case c.Type == "resource" && c.Resource != nil:
			b.WriteString(c.Resource.Text)
		}
	}
	if b.Len() > 0 || len(r.Result.StructuredContent) == 0 || string(r.Result.StructuredContent) == "null" {
		return b.String(), nil
	}
	return string(r.Result.StructuredContent), nil
}
