package loadgen

import (
	"net/http"
	"slices"
)

// WithHeader returns a client that sends header with every request, in
// place of any value of the same name, through client's transport (nil:
// http.DefaultClient's). It is how URLTarget reaches a server behind a
// token: header holds Authorization. A Host entry sets the request's host,
// which Go sends from there rather than from the header.
func WithHeader(client *http.Client, header http.Header) *http.Client {
	if client == nil {
		client = http.DefaultClient
	}
	next := client.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c := *client
	c.Transport = &headerTransport{next: next, header: header.Clone()}
	return &c
}

type headerTransport struct {
	next   http.RoundTripper
	header http.Header
}

func (t *headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	// A RoundTripper must not change the request it is given.
	r = r.Clone(r.Context())
	for name, values := range t.header {
		if name == "Host" {
			if len(values) > 0 {
				r.Host = values[0]
			}
			continue
		}
		r.Header[name] = slices.Clone(values)
	}
	return t.next.RoundTrip(r)
}
