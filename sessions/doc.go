// Package sessions follows the MCP sessions and clients behind the calls
// a monitor records: per session, who the client is, over what transport
// and protocol version, since when, how many calls and failures, their
// latency percentiles, bytes and tokens, and calls per tool; per client
// name, the same over all its sessions.
//
// A Tracker reads the monitor's ring of recent calls (Monitor.CallsBefore)
// rather than being called on the recording path, so following sessions
// costs a call nothing. It reads on a tick (Run) and before every answer,
// so an answer includes every call recorded before it; should more calls
// arrive between two reads than the ring keeps, the ones lost are counted
// (Missed), never guessed.
//
// Live sessions and the most recently ended ones are kept, both bounded.
// A session ends when its transport says so (End: an HTTP session deleted
// or expired, a stdio client gone) or after Options.Idle without a call.
// Session ids are for this API only: they never become metric labels.
package sessions
