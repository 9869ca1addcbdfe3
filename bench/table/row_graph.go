package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// referenceMemory is the npm package of the reference memory server, where
// the README's test command installs it.
const referenceMemory = ".cache/npm/node_modules/@modelcontextprotocol/server-memory/dist/index.js"

// graphRow runs the knowledge-graph workload of "pbatunnel bench" against
// "pbatunnel serve --stdio" on its SQLite file, against the same on a
// PostgreSQL database (a server of its own that the row starts, as the
// tests do), and against the reference memory server, one after the
// other, through the same Go client, at 1 000 and 10 000 entities; each
// run starts from a new, empty store or file.
func graphRow(ctx context.Context, e *env) ([]line, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("node is needed to run the reference server (bash scripts/test.sh installs it): %w", err)
	}
	if _, err := os.Stat(filepath.Join(e.root, referenceMemory)); err != nil {
		return nil, fmt.Errorf("the reference server is not installed (bash scripts/test.sh installs it): %w", err)
	}
	bin, err := e.build(ctx, "cmd/pbatunnel")
	if err != nil {
		return nil, err
	}
	pg, err := testenv.StartPostgres()
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL is needed for the store's line (bash scripts/test.sh installs it): %w", err)
	}
	defer pg.Stop()
	sizes, count, warmup := []int{1_000, 10_000}, "1000", "40"
	if e.quick {
		sizes, count, warmup = []int{100}, "20", "0"
	}
	var lines []line
	var errs []error // figures that are not numbers
	m := func(v []float64, unit string) measure {
		ms, err := measureOf(v, unit)
		if err != nil {
			errs = append(errs, err)
		}
		return ms
	}
	for _, n := range sizes {
		var ours, onPG, ref struct{ rate, p50 []float64 }
		var oursCmd, pgCmd, refCmd string
		for i := range e.runs(3) {
			bench := []string{"bench", "--workload", "graph", "--entities", strconv.Itoa(n), "--count", count, "--warmup", warmup, "--json", "--"}
			dir := filepath.Join(e.tmp, fmt.Sprintf("graph-%d-%d", n, i))
			r, cmd, err := e.benchJSON(ctx, bin, append(bench, bin, "serve", "--stdio", "--addr", "127.0.0.1:0", "--log-level", "error", "--data-dir", dir)...)
			if err != nil {
				return nil, err
			}
			ours.rate, ours.p50, oursCmd = append(ours.rate, r.Throughput), append(ours.p50, r.LatencyMS.P50), cmd
			url, drop, err := pg.CreateDatabase(ctx)
			if err != nil {
				return nil, err
			}
			r, cmd, err = e.benchJSON(ctx, bin, append(bench, bin, "serve", "--stdio", "--addr", "127.0.0.1:0", "--log-level", "error",
				"--data-dir", dir+"-pg", "--store", url)...)
			if dropErr := drop(); err == nil {
				err = dropErr
			}
			if err != nil {
				return nil, err
			}
			onPG.rate, onPG.p50, pgCmd = append(onPG.rate, r.Throughput), append(onPG.p50, r.LatencyMS.P50), cmd
			file := filepath.Join(e.tmp, fmt.Sprintf("graph-%d-%d.jsonl", n, i))
			r, cmd, err = e.benchJSON(ctx, bin, append(bench, "env", "MEMORY_FILE_PATH="+file, node, referenceMemory)...)
			if err != nil {
				return nil, err
			}
			ref.rate, ref.p50, refCmd = append(ref.rate, r.Throughput), append(ref.p50, r.LatencyMS.P50), cmd
		}
		lines = append(lines,
			line{
				what:     fmt.Sprintf("%d entities, one call at a time: calls/s, pbatunnel", n),
				figure:   m(ours.rate, "calls/s"),
				anchor:   "calls/s, @modelcontextprotocol/server-memory",
				anchorM:  m(ref.rate, "calls/s"),
				commands: []string{oursCmd, refCmd},
			},
			line{
				what:     fmt.Sprintf("%d entities: p50 latency, pbatunnel", n),
				figure:   m(ours.p50, "ms"),
				anchor:   "p50, @modelcontextprotocol/server-memory",
				anchorM:  m(ref.p50, "ms"),
				commands: []string{oursCmd, refCmd},
			},
			line{
				what:     fmt.Sprintf("%d entities, one call at a time: calls/s, pbatunnel on PostgreSQL (--store)", n),
				figure:   m(onPG.rate, "calls/s"),
				anchor:   "calls/s, pbatunnel on its SQLite file",
				anchorM:  m(ours.rate, "calls/s"),
				commands: []string{pgCmd, oursCmd},
			},
			line{
				what:     fmt.Sprintf("%d entities: p50 latency, pbatunnel on PostgreSQL (--store)", n),
				figure:   m(onPG.p50, "ms"),
				anchor:   "p50, pbatunnel on its SQLite file",
				anchorM:  m(ours.p50, "ms"),
				commands: []string{pgCmd, oursCmd},
			})
	}
	return lines, errors.Join(errs...)
}

// benchSummary is what "pbatunnel bench --json" prints that the row uses.
type benchSummary struct {
	Throughput float64 `json:"throughput"`
	LatencyMS  struct {
		P50 float64 `json:"p50"`
	} `json:"latency_ms"`
	Calls      int64            `json:"calls"`
	ErrorCount int64            `json:"error_count"`
	Errors     map[string]int64 `json:"errors"`
}

// benchJSON runs "pbatunnel bench … --json" and reads its summary; a call
// that failed fails the row, since its figure would not be the workload's.
func (e *env) benchJSON(ctx context.Context, bin string, args ...string) (benchSummary, string, error) {
	cmd := shellJoin("pbatunnel", args...)
	out, err := e.output(ctx, bin, args...)
	if err != nil {
		return benchSummary{}, cmd, err
	}
	var s benchSummary
	if err := json.Unmarshal(out, &s); err != nil {
		return s, cmd, fmt.Errorf("%s: reading its summary: %w", cmd, err)
	}
	if s.ErrorCount > 0 || s.Calls == 0 {
		return s, cmd, fmt.Errorf("%s: %d calls, errors %v", cmd, s.Calls, s.Errors)
	}
	return s, cmd, nil
}
