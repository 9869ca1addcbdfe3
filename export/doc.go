// Package export sends the monitor's report to other systems on every
// sample (the guide's "Integration with External Systems"): as a JSON file
// rewritten atomically, or POSTed to an HTTP endpoint with retries and a
// bounded queue. Neither ever slows the sampler: they read the snapshots
// the monitor publishes.
package export
