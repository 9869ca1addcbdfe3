// Package jsonmeta reads and writes string members of params._meta in a
// JSON-RPC message without decoding and re-encoding the message.
//
// The tunnel relays MCP messages byte for byte. To propagate W3C trace
// context it must put traceparent (and optionally tracestate and baggage)
// into the params._meta object of a request it forwards, and read them from
// a request it receives, as the MCP semantic conventions for OpenTelemetry
// prescribe. Re-encoding the whole message would reorder members, change
// number and string spellings and cost time and memory on messages of many
// megabytes; [Set] instead rewrites only the bytes of the members it sets,
// and [Get] reads them in place.
//
// # Which member counts
//
// A JSON object may name a member more than once, and its names may be
// spelled with escapes, so "which params._meta.traceparent" is a question
// for the reader at the other end. Both functions answer it the way
// github.com/modelcontextprotocol/go-sdk (v1.8.0) decodes a request, the SDK
// the peers of this tunnel are built on:
//
//   - Names match exactly after unescaping, and case-sensitively. The SDK
//     decodes with github.com/segmentio/encoding/json and calls
//     DontMatchCaseInsensitiveStructFields (internal/json), both for the
//     envelope (jsonrpc2.DecodeMessage) and for the params of each method; so
//     "Params" or "_Meta" are unknown members it ignores, unlike
//     encoding/json's case-insensitive struct fields, while "par\u0061ms" is
//     "params".
//   - The last "params" member wins: the envelope holds params as a
//     json.RawMessage, which a later member overwrites.
//   - Several "_meta" members in that params merge: the SDK decodes _meta
//     into a map (mcp.Meta) and reuses the map a previous member made, so a
//     later member's keys overwrite earlier ones and add to them; a null
//     _meta clears the map. A _meta that is neither an object nor null makes
//     the SDK reject the request, and makes Set and Get return ErrNotObject.
//   - Within _meta the last member with a name wins.
//
// Set writes its keys into the last _meta member (replacing the last
// occurrence of a key there, or adding the key as its first member). The
// SDK's merge then yields the new value, and so does a reader that keeps
// only the last occurrence of each name (JavaScript's JSON.parse,
// encoding/json into a map[string]any).
//
// Both functions check the whole message, so invalid JSON is reported as a
// [*SyntaxError] and never relayed half-edited. Their work is one pass over
// the message; Set allocates only its result.
//
// A [Doc] is a message read once for both. Its Set, like Set, returns a
// copy; its Overwrite is the one call that changes the message given,
// making Set's edit there, in place, when every value replaces one of the
// same length in JSON, as a proxy's traceparent replaces its client's.
package jsonmeta
