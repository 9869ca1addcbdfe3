package main

import (
	"context"
	"fmt"
)

// mcpRow is one SDK client calling enhanced_memory one call after another,
// through the metrics middleware and the SQLite store, over Streamable
// HTTP in one process and over stdio to a "pbatunnel serve --stdio"
// process. The anchor of a store is the store alone, without MCP.
func mcpRow(ctx context.Context, e *env) ([]line, error) {
	pattern, sizes := "ToolsCall", []string{"10k", "100k"}
	if e.quick {
		// Building the 100k fixture takes most of a minute; the 10k one
		// runs the same code.
		pattern, sizes = "ToolsCall/.*/entries=10k$", []string{"10k"}
	}
	r, err := e.goBench(ctx, pattern, e.benchFlags("1000x", 1), "mcpserver")
	if err != nil {
		return nil, err
	}
	var anchor *benchRun
	if !e.quick {
		if anchor, err = e.goBench(ctx, "StoreLatency", e.benchFlags("1000x", 1), "memory"); err != nil {
			return nil, err
		}
	}
	ops := []struct{ name, what, target string }{
		{"store", "store", " (target < 1 ms)"},
		{"search", "search (2 words, limit 10)", ""},
		{"retrieve", "retrieve (a conversation, limit 10)", ""},
	}
	var lines []line
	for _, size := range sizes {
		for _, op := range ops {
			for _, t := range []struct{ bench, what string }{{"BenchmarkToolsCallHTTP", "HTTP"}, {"BenchmarkToolsCallStdio", "stdio"}} {
				name := fmt.Sprintf("%s/%s/entries=%s", t.bench, op.name, size)
				l := line{
					what:     fmt.Sprintf("%s, %s entries, %s: p50%s", op.what, size, t.what, op.target),
					figure:   r.m("mcpserver", name, "p50-ms").scaled(1, "ms"),
					commands: []string{r.command},
				}
				if op.name == "store" && size == "100k" && anchor != nil {
					l.anchor = "the store alone, 100k entries (`BenchmarkStoreLatency`, p50)"
					l.anchorM = anchor.m("memory", "BenchmarkStoreLatency/entries=100k", "p50-ms").scaled(1, "ms")
					l.commands = append(l.commands, anchor.command)
				}
				lines = append(lines, l)
				if op.name == "search" {
					target := ""
					if size == "100k" {
						target = " (target < 10 ms)"
					}
					lines = append(lines, line{
						what:     fmt.Sprintf("%s, %s entries, %s: p99%s", op.what, size, t.what, target),
						figure:   r.m("mcpserver", name, "p99-ms").scaled(1, "ms"),
						commands: []string{r.command},
					})
				}
			}
		}
	}
	if err := r.check(); err != nil {
		return nil, err
	}
	if anchor != nil {
		return lines, anchor.check()
	}
	return lines, nil
}
