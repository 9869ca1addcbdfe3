package tunnel

import (
	"fmt"
	"net/http"
	"net/textproto"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/httpheader"
)

// fixedHeaders are the request headers HTTPOptions.Header may not set:
// those that concern one connection only (hop-by-hop), those the tunnel or
// its Transport writes from the request itself, and Accept-Encoding, which
// the tunnel removes so that responses come uncompressed and can be read as
// they pass. The reason is part of the error.
var fixedHeaders = map[string]string{
	"Connection":          "hop-by-hop",
	"Proxy-Connection":    "hop-by-hop",
	"Keep-Alive":          "hop-by-hop",
	"Proxy-Authenticate":  "hop-by-hop",
	"Proxy-Authorization": "hop-by-hop",
	"Te":                  "hop-by-hop",
	"Trailer":             "hop-by-hop",
	"Transfer-Encoding":   "hop-by-hop",
	"Upgrade":             "hop-by-hop",
	"Host":                "taken from the upstream URL",
	"Content-Length":      "taken from the request body",
	"Expect":              "taken from the client's request",
	"Accept-Encoding":     "removed so that responses can be read as they pass",
}

// CheckHeader reports whether h can be set on the requests to the server
// (HTTPOptions.Header): every name a valid header name the tunnel does not
// write itself, every value free of control characters (line breaks above
// all, which would start a header of their own). Errors name the header,
// never its value, which may be a secret.
func CheckHeader(h http.Header) error {
	for name, values := range h {
		if err := httpheader.CheckName(name); err != nil {
			return err
		}
		if why, ok := fixedHeaders[textproto.CanonicalMIMEHeaderKey(name)]; ok {
			return fmt.Errorf("header %s cannot be set for the upstream: %s", name, why)
		}
		for _, v := range values {
			if err := httpheader.CheckValue(name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// canonicalHeader returns a copy of h with canonical names, as the
// requests it is merged into have them, so that a value set replaces the
// client's of the same name however either is spelled.
func canonicalHeader(h http.Header) http.Header {
	if len(h) == 0 {
		return nil
	}
	out := make(http.Header, len(h))
	for name, values := range h {
		k := textproto.CanonicalMIMEHeaderKey(name)
		out[k] = append(out[k], values...)
	}
	return out
}

// setHeader sets every header of set on out, replacing the values of the
// same name. The values are shared: neither is changed afterwards.
func setHeader(out, set http.Header) {
	for k, vv := range set {
		out[k] = vv
	}
}
