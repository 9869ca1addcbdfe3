package alert

import (
	"fmt"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// Names of the built-in rules, the keys of SetThresholds and of the config
// file's alerts.thresholds (the guide's alert_thresholds).
const (
	RuleMemoryUsage       = "memory_usage"
	RuleCPUUsage          = "cpu_usage"
	RuleProcessCPU        = "process_cpu"
	RuleCacheHitRate      = "cache_hit_rate"
	RuleQueryResponseTime = "query_response_time"
	RuleErrorRate         = "error_rate"
	RuleThroughput        = "throughput"
)

// Levels of the process_cpu rule, in percent of one core. pbatunnel's own
// work is small: a sample costs a third of a millisecond and an idle
// server sampling every second a third of a percent of a core
// (docs/BENCHMARKS.md, sections 2 and 3), so it normally stays in single
// figures. Four fifths of a core held for minutes means the server is
// near what one core gives; nearly all of one, that its requests queue.
// The pending time is twice the host rule's because single requests
// (code_analysis of a large tree, importing a large memory.jsonl) may
// rightly hold a core for tens of seconds; two minutes at that level is no
// longer one request.
const (
	processCPUWarning  = 80
	processCPUCritical = 95
	processCPUFor      = 2 * time.Minute
)

// Minimum activity before a rate is judged: with fewer calls or lookups in
// the last minute, one failure or one miss swings the percentage so far
// that alerting on it would be crying wolf.
const (
	minCallsForErrorRate    = 20
	minLookupsForHitRate    = 20
	busyConcurrencyForSpeed = 1
)

// DefaultRules returns the built-in rules with the default thresholds:
// memory 80/90 %, CPU 70/85 %, cache hit rate below 50/30 %, average query
// time 500/2000 ms, error rate 5/10 %, throughput below 10/5 operations per
// second (the guide's), and this process's CPU 80/95 % of one core.
//
// cpu_usage watches the whole host, so other programs can fire it while
// this one idles; process_cpu watches this process alone, and says whether
// the server itself is the one short of CPU.
//
// Throughput is judged only while the server is busy: when, averaged over
// the last minute, at least one tool call was in flight at all times. An
// idle server (no client, or clients not asking) does few operations because
// nobody asks for more, and that is not a fault; a server that is never idle
// yet completes under 5 calls a second is slow, and that is what the rule
// catches. Likewise the error rate needs 20 calls and the cache hit rate 20
// lookups in the last minute before either is judged.
func DefaultRules() []Rule {
	return []Rule{
		{
			Name: RuleMemoryUsage, Metric: monitor.SeriesMemoryUsage, Direction: Above,
			Warning: Ptr(80), Critical: Ptr(90), For: time.Minute,
			Advice: "High memory use: look for leaks in long-running processes, review how often memory is cleaned up, and add memory if it stays above 80 %.",
		},
		{
			Name: RuleCPUUsage, Metric: monitor.SeriesCPUUsage, Direction: Above,
			Warning: Ptr(70), Critical: Ptr(85), For: time.Minute,
			Advice: "High CPU use: find the busiest tools on the Tools tab, check the process's share of it, and look for other work on the host.",
		},
		{
			Name: RuleProcessCPU, Metric: monitor.SeriesProcessCPU, Direction: Above,
			Warning: Ptr(processCPUWarning), Critical: Ptr(processCPUCritical), For: processCPUFor,
			Advice: "pbatunnel itself keeps a core busy: find the busiest tools on the Tools tab and the clients calling them, and look at large code_analysis requests or imports.",
		},
		{
			Name: RuleCacheHitRate, Metric: monitor.SeriesCacheHitRate, Direction: Below,
			Warning: Ptr(50), Critical: Ptr(30),
			OnlyIf: &Guard{Metric: monitor.SeriesCacheLookupsInMinute, AtLeast: minLookupsForHitRate},
			Advice: "Low cache hit rate: review the cache's TTL, make the cache larger if memory allows, and look at query patterns that bypass it.",
		},
		{
			Name: RuleQueryResponseTime, Metric: monitor.SeriesQueryTime, Direction: Above,
			Warning: Ptr(500), Critical: Ptr(2000),
			Advice: "Slow queries: check the store's indexes, find the slow queries in the logs, and rewrite or batch them.",
		},
		{
			Name: RuleErrorRate, Metric: monitor.SeriesErrorRate, Direction: Above,
			Warning: Ptr(5), Critical: Ptr(10),
			OnlyIf: &Guard{Metric: monitor.SeriesCallsInMinute, AtLeast: minCallsForErrorRate},
			Advice: "Tool calls are failing: see which tools fail on the Tools tab and read their error results and the server log.",
		},
		{
			Name: RuleThroughput, Metric: monitor.SeriesThroughput, Direction: Below,
			Warning: Ptr(10), Critical: Ptr(5), For: time.Minute,
			OnlyIf: &Guard{Metric: monitor.SeriesConcurrency, AtLeast: busyConcurrencyForSpeed},
			Advice: "Low throughput while busy: check the host for CPU, memory or disk limits, review concurrent connection limits, and tune the database connection pool.",
		},
	}
}

// builtinRule returns the built-in rule called name.
func builtinRule(name string) (Rule, bool) {
	for _, r := range DefaultRules() {
		if r.Name == name {
			return r, true
		}
	}
	return Rule{}, false
}

// ThresholdsOf returns the warning and critical levels of rules that have
// both, keyed by rule name: the effective alert_thresholds.
func ThresholdsOf(rules []Rule) map[string]Threshold {
	out := map[string]Threshold{}
	for _, r := range rules {
		if r.Warning != nil && r.Critical != nil {
			out[r.Name] = Threshold{Warning: *r.Warning, Critical: *r.Critical}
		}
	}
	return out
}

// withThreshold returns r with new levels and the clear levels reset to
// their defaults.
func (r Rule) withThreshold(t Threshold) Rule {
	r.Warning, r.Critical = Ptr(t.Warning), Ptr(t.Critical)
	r.ClearWarning, r.ClearCritical = nil, nil
	return r
}

func unknownThreshold(name string) error {
	return &RuleError{Rule: name, Field: "name", Msg: fmt.Sprintf("no built-in rule %q (have %s, %s, %s, %s, %s, %s, %s)",
		name, RuleMemoryUsage, RuleCPUUsage, RuleProcessCPU, RuleCacheHitRate, RuleQueryResponseTime, RuleErrorRate, RuleThroughput)}
}
