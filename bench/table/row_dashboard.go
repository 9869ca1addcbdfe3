package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// loadConns is how many connections load each route at once: enough to
// keep the server busy on a small machine, as in docs/BENCHMARKS.md.
const loadConns = 8

// A route is one path of the dashboard's API and how long a full run
// loads it.
type route struct {
	path, what string
	full       time.Duration
}

var routes = []route{
	{"/api/metrics", "`/api/metrics` (target ≥ 10 000 req/s, p99 < 5 ms)", 15 * time.Second},
	{"/api/health", "`/api/health`", 10 * time.Second},
	{"/api/calls?limit=100", "`/api/calls?limit=100`, full ring of 10 000 calls (target p99 < 5 ms)", 10 * time.Second},
	{"/metrics", "`/metrics`, Prometheus text", 10 * time.Second},
}

// dashArgs run bench/dashload without its hot-path loop, which would take
// a core from the server under load.
var dashArgs = []string{"-addr", "127.0.0.1:0", "-report-every", "24h"}

// dashboardRow loads the API of bench/dashload (10 tools, 15 minutes of
// 1 s history, sampling every second) route by route, alternating with the
// anchor: the same responses from a bare net/http server, in a process of
// its own like dashload. The loader runs in this program, a third process
// on the same cores, as wrk would.
func dashboardRow(ctx context.Context, e *env) ([]line, error) {
	dashBin, err := e.build(ctx, "bench/dashload")
	if err != nil {
		return nil, err
	}
	tableBin, err := e.build(ctx, "bench/table")
	if err != nil {
		return nil, err
	}
	dash, err := e.startServer(ctx, "dashload", dashBin, dashArgs...)
	if err != nil {
		return nil, err
	}
	lines, err := e.loadAgainstAnchor(ctx, dash, tableBin)
	if err := errors.Join(err, dash.stop()); err != nil {
		return nil, err
	}

	// What a request costs the server, without the network: the report
	// behind /api/metrics, rebuilt once per sample, and a /metrics scrape.
	r, err := e.goBench(ctx, "BenchmarkReport$|PrometheusHandler", e.benchFlags("", 3, "-benchmem"), "report", "dashboard")
	if err != nil {
		return nil, err
	}
	lines = append(lines,
		line{
			what:     "report build behind `/api/metrics`, 15 min of 1 s samples, 10 tools (`BenchmarkReport`)",
			figure:   r.m("report", "BenchmarkReport", "ns/op").scaled(1e-6, "ms"),
			commands: []string{r.command},
		},
		line{
			what:     "one `/metrics` scrape in process, 10 tools (`BenchmarkPrometheusHandler`)",
			figure:   r.m("dashboard", "BenchmarkPrometheusHandler", "ns/op").scaled(1e-6, "ms"),
			commands: []string{r.command},
		})
	return lines, r.check()
}

// loadAgainstAnchor starts the anchor with dashload's responses and loads
// each route of both.
func (e *env) loadAgainstAnchor(ctx context.Context, dash *server, tableBin string) ([]line, error) {
	var paths []string
	for _, r := range routes {
		paths = append(paths, r.path)
	}
	file := filepath.Join(e.tmp, "responses.json")
	if err := captureResponses(ctx, dash.url, paths, file); err != nil {
		return nil, fmt.Errorf("capturing the anchor's responses: %w", err)
	}
	static, err := e.startServer(ctx, "the anchor server", tableBin, "-serve", file)
	if err != nil {
		return nil, err
	}
	var lines []line
	for _, r := range routes {
		ls, err := e.loadRoute(ctx, r, dash.url, static.url)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("%s: %w", r.path, err), static.stop())
		}
		lines = append(lines, ls...)
	}
	return lines, static.stop()
}

// loadRoute loads one route of the dashboard, then of the anchor, as many
// times as the row runs, and gives its req/s and p99 lines.
func (e *env) loadRoute(ctx context.Context, r route, dashURL, anchorURL string) ([]line, error) {
	d := r.full
	if e.quick {
		d = 500 * time.Millisecond
	}
	var rate, p99, anchorRate, anchorP99 []float64
	for range e.runs(1) {
		res, err := load(ctx, dashURL+r.path, loadConns, d)
		if err != nil {
			return nil, err
		}
		anchor, err := load(ctx, anchorURL+r.path, loadConns, d)
		if err != nil {
			return nil, fmt.Errorf("the anchor: %w", err)
		}
		rate, p99 = append(rate, res.rate()), append(p99, res.percentile(0.99))
		anchorRate, anchorP99 = append(anchorRate, anchor.rate()), append(anchorP99, anchor.percentile(0.99))
	}
	loader := []string{"run", "./bench/table", "-rows", "4"}
	if e.quick {
		loader = append(loader, "-quick")
	}
	cmds := []string{shellJoin("go", append([]string{"run", "./bench/dashload"}, dashArgs...)...), shellJoin("go", loader...)}
	how := fmt.Sprintf("GET %s over %d connections for %v, then the same at the anchor", r.path, loadConns, d)
	const anchorWhat = "the same bytes from a bare `net/http` server"
	var errs []error
	pair := func(what string, fig, anchor []float64, unit string) line {
		l := line{what: r.what + ": " + what, anchor: anchorWhat, commands: cmds, how: how}
		var err1, err2 error
		l.figure, err1 = measureOf(fig, unit)
		l.anchorM, err2 = measureOf(anchor, unit)
		errs = append(errs, err1, err2)
		return l
	}
	lines := []line{pair("req/s", rate, anchorRate, "req/s"), pair("p99", p99, anchorP99, "ms")}
	return lines, errors.Join(errs...)
}
