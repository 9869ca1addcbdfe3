package mcpserver_test

import (
	"context"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/codeanalysis"
	"github.com/mcp-pba-tunnel/pbatunnel/mcpserver"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// TestCodeAnalysisWithoutRoots starts the tool as a launcher would with
// the working directory at the filesystem root and no --allow-root: its
// description and every call say that nothing is allowed and name the
// flag, as an isError result.
func TestCodeAnalysisWithoutRoots(t *testing.T) {
	t.Chdir("/")
	an, err := codeanalysis.New(codeanalysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	srv := mcpserver.New(mcpserver.Options{Monitor: monitor.New(monitor.Options{DisableSystem: true}), Analyzer: an, Version: "test"})
	st, ct := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close(); ss.Wait() })

	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range tools.Tools {
		if tool.Name == mcpserver.ToolCodeAnalysis && !strings.Contains(tool.Description, "--allow-root") {
			t.Errorf("description %q does not say how to allow a directory", tool.Description)
		}
	}
	for _, path := range []string{"/etc/passwd", "etc/hostname"} {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: mcpserver.ToolCodeAnalysis,
			Arguments: map[string]any{"path": path, "analysis_type": "security"}})
		if err != nil {
			t.Fatalf("%s: protocol error %v", path, err)
		}
		if got := text(res); !res.IsError || !strings.Contains(got, "--allow-root") || !strings.Contains(got, "no directory may be analysed") {
			t.Errorf("%s: isError %v %.200q, want an error naming --allow-root", path, res.IsError, got)
		}
	}
}
