// Package promrules writes pbatunnel's alert rules, and service level
// objectives for its tool calls, as a Prometheus rules file over the
// series pbatunnel exports on /metrics, so that a Prometheus scraping many
// pbatunnel hosts alerts as each would on its own.
//
// Each alert rule becomes one alerting rule per level, with its pending
// time as `for`, its keep_firing_for, and its hysteresis (the alert reads
// its own ALERTS series to hold until the value is back past the clear
// level). A rule over a series /metrics does not carry, or carries in a
// form PromQL cannot compute the same way, is left out and listed with the
// reason; where the PromQL figure differs in a smaller way (a rate window
// for a sampling interval, interpolated percentiles), the rule says how in
// a comment. An SLO adds multiwindow, multi-burn-rate alerts as The Site
// Reliability Workbook's chapter "Alerting on SLOs" describes them.
//
// It is its own package, rather than part of package alert, because it
// knows the exposition's names and PromQL, which judging samples needs
// neither of; it reads rules through alert's exported API only.
package promrules
