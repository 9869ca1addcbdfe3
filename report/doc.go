// Package report turns a monitor's snapshot into what people and programs
// read: the guide's performance report (the JSON of /api/metrics, with
// trends, percentiles, I/O rates, custom metrics and the monitor's own
// cost), its plain-text form, and the health of /api/health.
//
// Each is a pure function of its inputs (Of: a snapshot, the retained
// history and the monitor's settings; HealthOf: a snapshot and the active
// alerts), so a reader may build a report once per sample and share it, as
// the dashboard does. A figure that could not be measured is null with the
// reason, never a stand-in number.
package report
