// Package tunnel puts the monitor in front of an MCP server that this
// project did not write: it relays the server's traffic untouched and times
// every request into a [monitor.Monitor], per MCP method and, for
// tools/call, per tool.
//
// Two transports are covered. [Stdio] runs the server as a child process
// and relays newline-delimited JSON-RPC between the client (its own stdin
// and stdout) and the child. [HTTP] is a reverse proxy for the Streamable
// HTTP transport.
//
// # What is relayed
//
// Every message is relayed byte for byte: a line (stdio) or a body or
// event (HTTP) is written exactly as it was read, so methods the tunnel
// does not know pass as well as those it does. The tunnel decodes only the
// fields it measures: id, method, params.name, result.isError, error.code
// and the initialize result's serverInfo.
//
// Requests are matched to their responses in both directions (the client's
// requests to the server, and the server's own requests such as
// sampling/createMessage or roots/list). Each pair is recorded as a
// [monitor.Call] with [monitor.Monitor.RecordCall], which counts it per
// method and, for tools/call, per tool; the server's own requests are
// marked FromServer. The error type is "" for success,
// "tool_error" for a result with isError set, the JSON-RPC error code in
// decimal for an error response, and one of the tunnel's own types
// (ErrorTypeUpstreamExit, …) when no response could come. JSON-RPC batches
// are measured element by element.
//
// # Cancellation
//
// A notifications/cancelled (stdio) ends the request it names in
// params.requestId, matched by raw bytes as ids are, whichever side sent
// it: the request is recorded at once with the error type
// monitor.ErrorTypeCancelled, and the tunnel never answers it, not even when the
// server exits. The notification itself is relayed. An answer that comes
// anyway (the server's raced the cancellation, or the server ignores it)
// is dropped when it is alone on its line, and counted in
// tunnel_dropped_lines: the side that cancelled has stopped waiting for
// it, as the MCP specification asks, and the official TypeScript SDK
// reports an answer to an id it no longer waits for as an error
// ("Received a response for an unknown message ID"). In a batch, or on a
// line longer than StdioOptions.MaxLineSize, it is relayed with the rest
// of the line. The last 1024 cancelled ids of each direction are kept for
// this; an answer that comes later still is relayed.
//
// Over HTTP the client's notifications/cancelled comes in a POST of its
// own, while the request it names lives with its POST: the request is
// recorded as cancelled, as of the notice, once, when its answer comes or
// its response ends, whatever the answer. Bodies and streams are relayed
// whole, so an answer that comes anyway reaches the client, which drops
// it as an answer to an id it no longer waits for.
//
// # Malformed and long lines
//
// A line that is not a JSON-RPC message (not JSON, or JSON that is neither
// an object nor an array) is relayed unchanged, not interpreted, and counted
// in the custom counter tunnel_malformed_lines. A line longer than
// StdioOptions.MaxLineSize is relayed unchanged as it arrives, in pieces, so
// the tunnel never holds more than the limit of it, and is counted in
// tunnel_oversized_lines; it is read as it passes, keeping only the few
// fields measured, so that its requests and responses are matched and
// timed like any others, wherever in the line the id comes. Blank lines
// are relayed and not counted. Neither kind of line stops or slows the
// relay.
//
// Requests and responses are timed when the line that carries them has
// been read to their end. The client's request on a long line is pending
// before the piece that ends it reaches the server; if the server exits
// while the line is being written, the request reaches no server whole and
// is answered at once with the error of the server's exit. While a
// restarted server has not yet answered the replayed initialize, its long
// lines are dropped (tunnel_dropped_lines): one may be that answer, which
// the client must not see and which cannot be held until it is known.
//
// # Faults
//
// When the child exits, every request the client is still waiting for is
// answered with a JSON-RPC error (code -32000, same id) and recorded with
// the error type ErrorTypeUpstreamExit; the application gauge upstream_up
// drops to 0, and the alert rule upstream_down (registered by NewStdio and
// NewHTTP) makes the health critical. Without a restart the tunnel then
// ends with the child's exit status.
//
// With StdioOptions.Restart the child is started again after a backoff that
// doubles from StdioOptions.MinBackoff up to StdioOptions.MaxBackoff. A
// client that had already initialized does not know the server changed, so
// the tunnel replays the client's original initialize request and its
// notifications/initialized to the new child, swallows the new child's
// initialize response (after reading its serverInfo), and only then relays
// the client's next lines. Answers the client gives to requests of a child
// that has gone are dropped rather than handed to the new child, whose own
// request ids may collide with them.
//
// An HTTP POST the server could not be asked, or that it dropped unanswered,
// gets status 502 and a JSON-RPC error (code -32000) for each of its
// requests, with the request's id: one response, or an array of them for a
// batch. The requests are recorded with the error type
// ErrorTypeUpstreamError.
package tunnel
