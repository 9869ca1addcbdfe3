package dashboard

import (
	"encoding/hex"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/jsonstr"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// appendCall appends call c as JSON, byte for byte what encoding/json
// writes for callOf(c) (TestAppendCallMatchesEncodingJSON), without
// reflection or allocation: a page of /api/calls is a hundred of them,
// and the reflective encoder was most of its cost.
func appendCall(b []byte, c *monitor.Call) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendUint(b, c.ID, 10)
	b = append(b, `,"time":"`...)
	b = c.Start.UTC().AppendFormat(b, monitor.TimeFormat)
	b = append(b, `","session_id":`...)
	b = appendString(b, c.Session)
	b = append(b, `,"client":{"name":`...)
	b = appendString(b, c.Client.Name)
	b = append(b, `,"version":`...)
	b = appendString(b, c.Client.Version)
	b = append(b, `},"transport":`...)
	b = appendString(b, c.Transport)
	b = append(b, `,"method":`...)
	b = appendString(b, c.Method)
	b = append(b, `,"tool":`...)
	b = appendString(b, c.Tool)
	if c.FromServer {
		b = append(b, `,"from_server":true`...)
	}
	b = append(b, `,"duration_ms":`...)
	b = appendFloat(b, durationMs(c.Duration))
	b = append(b, `,"outcome":`...)
	b = appendString(b, outcome(c))
	b = append(b, `,"error":`...)
	b = appendString(b, c.Error)
	b = append(b, `,"request_bytes":`...)
	b = appendMeasured(b, c.RequestBytes)
	b = append(b, `,"response_bytes":`...)
	b = appendMeasured(b, c.ResponseBytes)
	b = append(b, `,"response_tokens":`...)
	b = appendMeasured(b, c.ResponseTokens)
	b = append(b, `,"trace_id":`...)
	b = appendHexID(b, c.TraceID[:])
	b = append(b, `,"span_id":`...)
	b = appendHexID(b, c.SpanID[:])
	return append(b, '}')
}

// appendHexID appends an id in hex, quoted, or null when it is zero.
func appendHexID(b []byte, id []byte) []byte {
	for _, x := range id {
		if x != 0 {
			b = append(b, '"')
			b = hex.AppendEncode(b, id)
			return append(b, '"')
		}
	}
	return append(b, "null"...)
}

// durationMs is a duration in milliseconds, to the microsecond.
func durationMs(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}

func appendMeasured(b []byte, n int64) []byte {
	if n <= 0 {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, n, 10)
}

// appendFloat writes f as encoding/json does.
func appendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendString writes s as a JSON string, escaped as encoding/json
// escapes it by default.
func appendString(b []byte, s string) []byte { return jsonstr.Append(b, s, jsonstr.AsEncodingJSON) }

// bufPool holds the buffers pages of calls are written into.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}
