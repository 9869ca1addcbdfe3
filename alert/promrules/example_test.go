package promrules_test

import (
	"fmt"
	"os"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/alert/promrules"
)

// One rule over the store's mean query time: a recording rule computes the
// figure from /metrics, and the alert holds, once firing, until the figure
// is back under its clear level.
func ExampleBuild() {
	f, err := promrules.Build(promrules.Options{Rules: []alert.Rule{{
		Name: "slow_queries", Metric: "average_query_time_ms", Warning: alert.Ptr(250), For: time.Minute,
		Advice: "Check the store's indexes.",
	}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	f.WriteTo(os.Stdout)
	// Output:
	// # Prometheus rules for pbatunnel, written by `pbatunnel alerts export --format prometheus-rules`:
	// # regenerate the file after changing the config file rather than edit it. docs/ALERTS.md
	// # explains it.
	// #
	// # Each pbatunnel alert rule is one alerting rule per level (labels severity and rule) over the
	// # series pbatunnel serves on /metrics. Aggregates keep job and instance, so that one file serves
	// # every pbatunnel scraped. As in pbatunnel, a firing alert holds until its value is back past
	// # the clear level: each alert reads its own ALERTS series for that. pbatunnel's last-minute
	// # figures are rates over 1m: scrape at least every 15s.
	// #
	// # When a critical alert fires, its warning fires too: inhibit the warning in Alertmanager.
	// # The labels in equal tell apart the tools, methods and custom metrics a pattern rule alerts
	// # on, so that a critical alert inhibits its own warning and no other:
	// #
	// #   inhibit_rules:
	// #     - source_matchers: [severity="critical"]
	// #       target_matchers: [severity="warning"]
	// #       equal: [alertname, job, instance, gen_ai_tool_name, mcp_method_name, name]
	// groups:
	//   - name: pbatunnel
	//     rules:
	//       - record: instance:pbatunnel_store_query_duration_milliseconds:mean1m
	//         expr: |-
	//           1000 * sum by (job, instance) (rate(pbatunnel_store_query_duration_seconds_total[1m]))
	//           /
	//           sum by (job, instance) (rate(pbatunnel_store_queries_total[1m]))
	//       # pbatunnel rule slow_queries, over average_query_time_ms.
	//       - alert: PbatunnelSlowQueries
	//         expr: |-
	//           instance:pbatunnel_store_query_duration_milliseconds:mean1m > 250
	//           or
	//           (
	//             instance:pbatunnel_store_query_duration_milliseconds:mean1m > 237.5
	//             and on (job, instance)
	//             ALERTS{alertname="PbatunnelSlowQueries", alertstate="firing", rule="slow_queries", severity="warning"}
	//           )
	//         for: 1m
	//         labels:
	//           rule: slow_queries
	//           severity: warning
	//         annotations:
	//           description: average_query_time_ms has been above 250 for 1m on {{ $labels.instance }}; the alert clears once it is back below 237.5. Check the store's indexes.
	//           summary: 'warning slow_queries on {{ $labels.instance }}: average_query_time_ms is {{ $value | humanize }}, above the warning threshold 250'
}
