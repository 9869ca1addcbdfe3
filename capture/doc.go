// Package capture keeps, when asked to, the arguments and the result of
// each MCP call beside its record, so that a person can see what an agent
// asked and what came back. Nothing is kept unless capture is turned on
// (serve and proxy: --capture-payloads); it is off by default.
//
// Before anything is kept it is redacted: the value of every object key
// that names a secret (password, secret, token, authorization, api_key,
// cookie, or the list given) becomes "[redacted]", at any depth, in the
// arguments and in the result alike, and inside strings that hold a JSON
// document (as a tool's text content often does). Then it is cut to a size bound, and
// the store as a whole keeps a bounded number of bytes, dropping the
// oldest payloads first.
//
// Redaction matches key names, not values: a secret a tool puts in free
// text, or under a key the list does not name, is kept as it is. Name such
// keys with --redact-key, or leave capture off.
package capture
