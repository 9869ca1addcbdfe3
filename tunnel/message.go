package tunnel

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/jsonmeta"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// Error types of requests that got no response from the server, beside the
// ones a response carries ("" for success, monitor.ErrorTypeTool, or the
// JSON-RPC code) and monitor.ErrorTypeCancelled, which the MCP server's own
// middleware records too.
const (
	// ErrorTypeUpstreamExit is a request in flight when the server exited.
	ErrorTypeUpstreamExit = "upstream_exit"
	// ErrorTypeBlocked is a tools/call the tunnel answered itself, and
	// did not relay (Observers.Block).
	ErrorTypeBlocked = "tool_blocked"
	// ErrorTypeUpstreamError is an HTTP request that could not reach the
	// server.
	ErrorTypeUpstreamError = "upstream_error"
	// ErrorTypeNoResponse is an HTTP request whose response stream ended
	// without answering it.
	ErrorTypeNoResponse = "no_response"
)

// errorTypeHTTP is the error type of a request the server answered with an
// HTTP error status instead of a JSON-RPC message, such as "http_404" for
// an expired session.
func errorTypeHTTP(status int) string { return "http_" + strconv.Itoa(status) }

// message holds the few fields of a JSON-RPC message the tunnel measures,
// as read by decode, or by a longScanner from a line too long to hold. Its
// byte slices point into the decoded line, or the scanner's buffers, and
// are valid only as long as those are.
type message struct {
	ID []byte // the raw id, nil when absent
	// idCut marks an id too long to keep, on a line too long to hold (see
	// longScanner): the message has an id, which matches nothing.
	idCut  bool
	Method string
	// tool is params.name, raw: between the quotes, escapes unresolved.
	tool    []byte
	toolEsc bool
	// cancelID is params.requestId, raw: the request a
	// notifications/cancelled cancels.
	cancelID  []byte
	hasResult bool // a result other than null
	hasError  bool // an error other than null
	isError   bool // result.isError is true
	code      []byte
	// protocolVersion and serverInfo are the initialize result's, raw.
	protocolVersion []byte
	serverInfo      []byte
	// path is where params._meta lies, for tracing's rewrite of a
	// request: noted as the message is read, so that it is read once.
	path jsonmeta.Path
}

// Implementation is the name and version an MCP server reports in its
// initialize result.
type Implementation struct {
	Name    string `json:"name"`
	Title   string `json:"title,omitempty"`
	Version string `json:"version"`
}

// kind is what a message is.
type kind uint8

const (
	kindOther        kind = iota // none of the below: ignored
	kindRequest                  // method and id
	kindNotification             // method, no id
	kindResponse                 // id, result or error, no method
)

func (m *message) kind() kind {
	hasID := m.idCut || len(m.ID) > 0 && !bytes.Equal(m.ID, jsonNull)
	switch {
	case m.Method != "" && hasID:
		return kindRequest
	case m.Method != "":
		return kindNotification
	case hasID && (m.hasResult || m.hasError):
		return kindResponse
	}
	return kindOther
}

var jsonNull = []byte("null")

// toolName is params.name of a tools/call request.
func (m *message) toolName() string { return unquote(m.tool, m.toolEsc) }

// errorType classifies a response: "" for a success, monitor.ErrorTypeTool for a
// result with isError, else the JSON-RPC error code.
func (m *message) errorType() string {
	switch {
	case m.hasError:
		if len(m.code) == 0 {
			return "error"
		}
		return string(m.code)
	case m.hasResult && m.isError:
		return monitor.ErrorTypeTool
	}
	return ""
}

// serverInfoOf returns the initialize result's serverInfo, zero when it has
// none.
func (m *message) serverInfoOf() Implementation {
	var impl Implementation
	if len(m.serverInfo) > 0 {
		_ = json.Unmarshal(m.serverInfo, &impl) // validated already; odd fields stay empty
	}
	return impl
}

// protocolVersionOf returns the initialize result's protocolVersion.
func (m *message) protocolVersionOf() string {
	var v string
	if len(m.protocolVersion) > 0 {
		_ = json.Unmarshal(m.protocolVersion, &v)
	}
	return v
}

// errNotMessage is returned for JSON that is no JSON-RPC message or batch.
var errNotMessage = errors.New("not a JSON-RPC message")

// decode reads the messages of one line or body: one for an object, one
// per element for a batch (an element that is not an object is a message
// of no kind). A field of an unexpected type (params that are an array,
// say) is left empty rather than rejecting the message, since the relay
// carries it anyway. It returns an error for anything that is not valid
// JSON, or not an object or non-empty array.
//
// It reads only what it measures, and validates the rest without building
// it; see scan.go.
func decode(data []byte, into []message) ([]message, error) {
	// Elements past the new length would otherwise keep pointing into an
	// old line.
	clear(into[:cap(into)])
	into = into[:0]
	s := scanner{data: data}
	s.space()
	if s.pos >= len(data) {
		return into, errNotMessage
	}
	var err error
	switch data[s.pos] {
	case '{':
		into = append(into, message{})
		err = s.message(&into[0])
	case '[':
		err = s.array(func() error {
			into = append(into, message{})
			if s.peek() == '{' {
				m := &into[len(into)-1]
				err := s.message(m)
				// Not the whole of its line, even alone in it: jsonmeta
				// reads no message to rewrite in a batch.
				m.path.Valid = false
				return err
			}
			return s.value()
		})
		if err == nil && len(into) == 0 {
			err = errNotMessage
		}
	default:
		return into, errNotMessage
	}
	if err == nil {
		s.space()
		if s.pos != len(data) {
			err = errSyntax
		}
	}
	if err != nil {
		return into[:0], err
	}
	return into, nil
}

// isBlank reports whether a line holds only whitespace.
func isBlank(line []byte) bool {
	return len(bytes.TrimLeft(line, " \t\r\n")) == 0
}

// errorResponse is the JSON-RPC error line the tunnel writes for a request
// that can no longer be answered. id is the request's raw id, so the client
// matches it whatever its type.
func errorResponse(id []byte, code int, msg string) []byte {
	return append(appendErrorResponse(make([]byte, 0, 64+len(id)+len(msg)), id, code, msg), '\n')
}

// appendErrorResponse appends the JSON-RPC error response object for the
// request with the raw id to b.
func appendErrorResponse(b, id []byte, code int, msg string) []byte {
	text, _ := json.Marshal(msg) // a string always marshals
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = append(b, id...)
	b = append(b, `,"error":{"code":`...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, `,"message":`...)
	b = append(b, text...)
	return append(b, "}}"...)
}
