// Package telemetry emits OpenTelemetry traces and metrics of MCP
// requests, as the semantic conventions for MCP describe them, and sends
// them over OTLP to the collector a user already runs.
//
// A nil *Telemetry is off: every method is safe on it and does nothing,
// so callers hold one without checking whether export was asked for.
// Export never slows a request: spans go through a bounded queue whose
// losses are counted (Stats), metrics are read by a periodic reader.
package telemetry
