// Package alert judges a monitor's samples by rules and tells people when
// something goes wrong: the built-in rules of the guide (memory, CPU, this
// process's CPU, cache hit rate, query time, error rate, throughput) and
// any rule over a series of the monitor, each with warning and critical
// levels, a pending time, hysteresis and optional repeats.
//
// An [Engine] is attached to one monitor (New) and judges every sample it
// takes, before the sample is published. Each transition (firing,
// escalated, deescalated, resolved, repeat) is kept in a bounded history,
// published to subscribers and delivered to the handlers registered with
// [Engine.OnAlert]; package notify has handlers for logs, webhooks and
// Alertmanager.
package alert
