package mcpserver

import (
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestMetaOfParamsless: a request without params (a nil pointer of its
// params type) has no _meta, and reading it does not panic.
func TestMetaOfParamsless(t *testing.T) {
	var p *mcp.ListToolsParams
	if m := metaOf(p); m != nil {
		t.Errorf("meta of nil params = %v", m)
	}
	withMeta := &mcp.CallToolParamsRaw{Meta: mcp.Meta{mcp.MetaKeyProtocolVersion: "2026-07-28"}}
	if v := metaOf(withMeta)[mcp.MetaKeyProtocolVersion]; v != "2026-07-28" {
		t.Errorf("meta version = %v", v)
	}
}
