package mcpserver

import (
	"context"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-pba-tunnel/pbatunnel/codeanalysis"
)

// ToolCodeAnalysis is the tool that analyses code under the allowed roots.
const ToolCodeAnalysis = "code_analysis"

// AnalysisInput is code_analysis's arguments.
type AnalysisInput struct {
	Path         string `json:"path" jsonschema:"file or directory to analyse: absolute, or relative to an allowed root; it must stay under the allowed roots"`
	AnalysisType string `json:"analysis_type" jsonschema:"complexity (per-function cyclomatic complexity, length, nesting, imports), patterns (long functions, deep nesting, ignored errors, TODOs), security (hard-coded secrets, shell or SQL built from input, weak hashes) or performance (work repeated in loops)"`
}

func addCodeAnalysisTool(s *mcp.Server, a *codeanalysis.Analyzer) {
	roots := "under the allowed roots (" + strings.Join(a.Roots(), ", ") + ")"
	if err := a.Refusal(); err != nil {
		// Said up front, so that a client knows before calling why every
		// call fails and what the user must change.
		roots = "under the allowed roots, of which there are none now (" + err.Error() + ")"
	}
	mcp.AddTool(s, &mcp.Tool{
		Name:  ToolCodeAnalysis,
		Title: "Code analysis",
		Description: "Analyse a source file or a directory tree " + roots + ". " +
			"Go is parsed exactly; Python and JavaScript/TypeScript are analysed lexically and marked approximate. " +
			"Findings carry file:line. Paths outside the roots, symlinks leading out, huge and binary files are refused.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: ptr(false)},
	}, func(ctx context.Context, _ *mcp.CallToolRequest, in AnalysisInput) (*mcp.CallToolResult, *codeanalysis.Result, error) {
		// The analyser's errors are written to be shown as they are: the
		// SDK turns them into an isError result.
		res, err := a.Analyze(ctx, codeanalysis.Request{Path: in.Path, Type: in.AnalysisType})
		if err != nil {
			return nil, nil, err
		}
		return nil, res, nil
	})
}
