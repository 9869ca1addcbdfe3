// Package bridges measures pbatunnel's transport bridges beside the ones
// people use for the same job, in the same run, with the same client and
// server: "proxy --listen -- COMMAND" beside supergateway and mcp-proxy (a
// stdio server served over Streamable HTTP), and "proxy --stdio
// --upstream URL" beside mcp-remote (an HTTP server for a stdio client).
// It holds benchmarks only; see docs/BENCHMARKS.md, section 11.
package bridges
