// Package loadgen drives an MCP server with concurrent tool calls and
// measures them: how many, how fast, how they failed.
//
// Run connects to a Target, plays a Workload with Options.Concurrency
// workers until a count, a duration or the context ends, and returns a
// Summary with exact latency percentiles.
package loadgen
